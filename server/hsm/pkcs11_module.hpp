// Private to the hsm module (and its tests): the PKCS#11 C API wrapped once, in RAII handles.
// References are to PKCS#11 Cryptographic Token Interface Base Specification v2.40.
#pragma once

#include <p11-kit/pkcs11.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/hsm/key_store.hpp"

namespace secms::hsm::detail {

// The symbolic name of a return value, for logs ("CKR_PIN_INCORRECT"); hex when not known.
std::string rv_name(CK_RV rv);

// A token label as CK_TOKEN_INFO.label and C_InitToken carry it: 32 bytes, padded with blanks,
// not NUL-terminated (§3.2 CK_TOKEN_INFO, §5.5 C_InitToken). Empty when `label` is too long.
std::optional<std::array<CK_UTF8CHAR, 32>> padded_label(std::string_view label);

// A loaded and initialised PKCS#11 module. C_Initialize and C_Finalize act on the whole process
// (§5.4), so there is one instance per module path, shared by everyone who opens it, and the
// last owner finalises and unloads it.
class pkcs11_module {
  public:
    // dlopen, C_GetFunctionList, C_Initialize with CKF_OS_LOCKING_OK (§5.4: the library may use
    // the operating system's locks, so it may be called from several threads).
    static core::result<std::shared_ptr<pkcs11_module>, hsm_error> open(
        const std::filesystem::path& path);

    ~pkcs11_module();
    pkcs11_module(const pkcs11_module&) = delete;
    pkcs11_module& operator=(const pkcs11_module&) = delete;

    CK_FUNCTION_LIST& api() const noexcept { return *api_; }

    // C_Finalize, then C_Initialize again (§5.4): every session of the process ends and the
    // module reads its tokens afresh. SoftHSM2 notices a token directory that came back only
    // this way. Only for a module this process initialised; false otherwise or on failure.
    bool reinitialise();

    // Tests only: routes every call through another function list (a fault-injecting wrapper
    // around the real one). Not thread-safe; set it while nothing else uses the module.
    void use_function_list_for_testing(CK_FUNCTION_LIST* api) noexcept { api_ = api; }

    // Slots that hold a token (§5.5 C_GetSlotList with tokenPresent true).
    core::result<std::vector<CK_SLOT_ID>, CK_RV> slots_with_token() const;
    core::result<CK_TOKEN_INFO, CK_RV> token_info(CK_SLOT_ID slot) const;
    // The slot whose token carries `label`, if any.
    core::result<std::optional<CK_SLOT_ID>, CK_RV> find_token(std::string_view label) const;

  private:
    pkcs11_module(void* library, CK_FUNCTION_LIST* api, bool owns_initialisation)
        : library_(library), api_(api), owns_initialisation_(owns_initialisation) {}

    void* library_;
    CK_FUNCTION_LIST* api_;
    // False when the module was initialised already by other code in the process
    // (CKR_CRYPTOKI_ALREADY_INITIALIZED): that code finalises it, not us.
    bool owns_initialisation_;
};

// An open session on one token (§5.6). Closing the last session of the application with a
// token returns the token to the public (logged-out) state.
class pkcs11_session {
  public:
    static core::result<pkcs11_session, CK_RV> open(std::shared_ptr<pkcs11_module> module,
                                                    CK_SLOT_ID slot, bool read_write);

    ~pkcs11_session();
    pkcs11_session(pkcs11_session&& other) noexcept;
    pkcs11_session& operator=(pkcs11_session&& other) noexcept;
    pkcs11_session(const pkcs11_session&) = delete;
    pkcs11_session& operator=(const pkcs11_session&) = delete;

    CK_SESSION_HANDLE handle() const noexcept { return handle_; }
    CK_FUNCTION_LIST& api() const noexcept { return module_->api(); }

    // C_Login (§5.6). The login state belongs to the application, not the session, so
    // CKR_USER_ALREADY_LOGGED_IN (another session logged in) counts as success.
    CK_RV login(CK_USER_TYPE user, std::string_view pin);
    CK_RV logout();

    // Objects matching `attributes` (§5.7 C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal),
    // at most `max` of them.
    core::result<std::vector<CK_OBJECT_HANDLE>, CK_RV> find(std::span<CK_ATTRIBUTE> attributes,
                                                            std::size_t max);

    // A CK_BBOOL attribute of an object (§5.7 C_GetAttributeValue).
    core::result<bool, CK_RV> bool_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

  private:
    pkcs11_session(std::shared_ptr<pkcs11_module> module, CK_SESSION_HANDLE handle)
        : module_(std::move(module)), handle_(handle) {}
    void close() noexcept;

    std::shared_ptr<pkcs11_module> module_;  // kept alive while the session is open
    CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

// PKCS#11 takes PINs and labels as non-const CK_UTF8CHAR pointers but does not write to them.
inline CK_UTF8CHAR* utf8_ptr(std::string_view s) noexcept {
    return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(s.data()));
}

}  // namespace secms::hsm::detail

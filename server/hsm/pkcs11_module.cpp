#include "server/hsm/pkcs11_module.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <utility>

#include "server/core/log.hpp"

namespace secms::hsm::detail {

namespace {

// Open modules by path. The mutex is also held while the last owner finalises a module, so a
// new open of the same path cannot slip in between C_Finalize and dlclose and find a module
// that is about to go away.
std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<pkcs11_module>, std::less<>> registry;

}  // namespace

std::string rv_name(CK_RV rv) {
    switch (rv) {
#define SECMS_RV(name) \
    case name:         \
        return #name;
        SECMS_RV(CKR_OK)
        SECMS_RV(CKR_HOST_MEMORY)
        SECMS_RV(CKR_SLOT_ID_INVALID)
        SECMS_RV(CKR_GENERAL_ERROR)
        SECMS_RV(CKR_FUNCTION_FAILED)
        SECMS_RV(CKR_ARGUMENTS_BAD)
        SECMS_RV(CKR_ATTRIBUTE_SENSITIVE)
        SECMS_RV(CKR_ATTRIBUTE_TYPE_INVALID)
        SECMS_RV(CKR_ATTRIBUTE_VALUE_INVALID)
        SECMS_RV(CKR_DEVICE_ERROR)
        SECMS_RV(CKR_DEVICE_MEMORY)
        SECMS_RV(CKR_DEVICE_REMOVED)
        SECMS_RV(CKR_KEY_HANDLE_INVALID)
        SECMS_RV(CKR_KEY_TYPE_INCONSISTENT)
        SECMS_RV(CKR_KEY_FUNCTION_NOT_PERMITTED)
        SECMS_RV(CKR_MECHANISM_INVALID)
        SECMS_RV(CKR_MECHANISM_PARAM_INVALID)
        SECMS_RV(CKR_OBJECT_HANDLE_INVALID)
        SECMS_RV(CKR_OPERATION_ACTIVE)
        SECMS_RV(CKR_OPERATION_NOT_INITIALIZED)
        SECMS_RV(CKR_PIN_INCORRECT)
        SECMS_RV(CKR_PIN_INVALID)
        SECMS_RV(CKR_PIN_LEN_RANGE)
        SECMS_RV(CKR_PIN_LOCKED)
        SECMS_RV(CKR_SESSION_CLOSED)
        SECMS_RV(CKR_SESSION_HANDLE_INVALID)
        SECMS_RV(CKR_SESSION_EXISTS)
        SECMS_RV(CKR_SESSION_READ_ONLY)
        SECMS_RV(CKR_TEMPLATE_INCOMPLETE)
        SECMS_RV(CKR_TEMPLATE_INCONSISTENT)
        SECMS_RV(CKR_TOKEN_NOT_PRESENT)
        SECMS_RV(CKR_TOKEN_NOT_RECOGNIZED)
        SECMS_RV(CKR_TOKEN_WRITE_PROTECTED)
        SECMS_RV(CKR_USER_ALREADY_LOGGED_IN)
        SECMS_RV(CKR_USER_NOT_LOGGED_IN)
        SECMS_RV(CKR_USER_PIN_NOT_INITIALIZED)
        SECMS_RV(CKR_USER_TYPE_INVALID)
        SECMS_RV(CKR_BUFFER_TOO_SMALL)
        SECMS_RV(CKR_CRYPTOKI_NOT_INITIALIZED)
        SECMS_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef SECMS_RV
        default: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "CKR 0x%08lx", rv);
            return buf;
        }
    }
}

std::optional<std::array<CK_UTF8CHAR, 32>> padded_label(std::string_view label) {
    std::array<CK_UTF8CHAR, 32> out;
    if (label.size() > out.size()) return std::nullopt;
    out.fill(' ');
    for (std::size_t i = 0; i < label.size(); ++i) out[i] = static_cast<CK_UTF8CHAR>(label[i]);
    return out;
}

core::result<std::shared_ptr<pkcs11_module>, hsm_error> pkcs11_module::open(
    const std::filesystem::path& path) {
    std::lock_guard lock(registry_mutex);
    if (auto it = registry.find(path.string()); it != registry.end()) {
        if (auto live = it->second.lock()) return live;
    }

    void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        const char* why = ::dlerror();
        spdlog::error("PKCS#11: cannot load module {}: {}", path.string(),
                      why != nullptr ? why : "unknown error");
        return core::fail(hsm_error::module_load_failed);
    }
    // C_GetFunctionList is the one entry point looked up by name (§5.4); everything else is
    // reached through the list it returns.
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
    CK_FUNCTION_LIST* api = nullptr;
    if (get_list == nullptr || get_list(&api) != CKR_OK || api == nullptr) {
        spdlog::error("PKCS#11: {} is not a PKCS#11 module (no C_GetFunctionList)", path.string());
        ::dlclose(library);
        return core::fail(hsm_error::module_load_failed);
    }

    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = api->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        spdlog::error("PKCS#11: C_Initialize of {} failed: {}", path.string(), rv_name(rv));
        ::dlclose(library);
        return core::fail(hsm_error::module_load_failed);
    }

    // The deleter takes the registry lock, see registry_mutex.
    std::shared_ptr<pkcs11_module> module(new pkcs11_module(library, api, rv == CKR_OK),
                                          [](pkcs11_module* m) {
                                              std::lock_guard finalising(registry_mutex);
                                              delete m;
                                          });
    registry[path.string()] = module;
    return module;
}

bool pkcs11_module::reinitialise() {
    if (!owns_initialisation_) return false;
    api_->C_Finalize(nullptr);
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = api_->C_Initialize(&args);
    if (rv != CKR_OK) {
        // Tried again on the next reopen; C_Finalize in the destructor then only answers
        // CKR_CRYPTOKI_NOT_INITIALIZED.
        spdlog::error("PKCS#11: C_Initialize again failed: {}", rv_name(rv));
        return false;
    }
    return true;
}

pkcs11_module::~pkcs11_module() {
    if (owns_initialisation_) api_->C_Finalize(nullptr);
    ::dlclose(library_);
}

core::result<std::vector<CK_SLOT_ID>, CK_RV> pkcs11_module::slots_with_token() const {
    // The list may change between the two calls (a token inserted): retry on
    // CKR_BUFFER_TOO_SMALL as §5.5 C_GetSlotList suggests.
    for (;;) {
        CK_ULONG count = 0;
        CK_RV rv = api_->C_GetSlotList(CK_TRUE, nullptr, &count);
        if (rv != CKR_OK) return core::fail(rv);
        std::vector<CK_SLOT_ID> slots(count);
        rv = api_->C_GetSlotList(CK_TRUE, slots.data(), &count);
        if (rv == CKR_BUFFER_TOO_SMALL) continue;
        if (rv != CKR_OK) return core::fail(rv);
        slots.resize(count);
        return slots;
    }
}

core::result<CK_TOKEN_INFO, CK_RV> pkcs11_module::token_info(CK_SLOT_ID slot) const {
    CK_TOKEN_INFO info{};
    if (CK_RV rv = api_->C_GetTokenInfo(slot, &info); rv != CKR_OK) return core::fail(rv);
    return info;
}

core::result<std::optional<CK_SLOT_ID>, CK_RV> pkcs11_module::find_token(
    std::string_view label) const {
    const auto wanted = padded_label(label);
    if (!wanted) return std::optional<CK_SLOT_ID>();
    auto slots = slots_with_token();
    if (!slots) return core::fail(slots.error());
    for (CK_SLOT_ID slot : *slots) {
        auto info = token_info(slot);
        // A slot whose token vanished since the list was taken is skipped, not fatal.
        if (!info) continue;
        if ((info->flags & CKF_TOKEN_INITIALIZED) == 0) continue;
        if (std::equal(wanted->begin(), wanted->end(), std::begin(info->label)))
            return std::optional<CK_SLOT_ID>(slot);
    }
    return std::optional<CK_SLOT_ID>();
}

core::result<pkcs11_session, CK_RV> pkcs11_session::open(std::shared_ptr<pkcs11_module> module,
                                                         CK_SLOT_ID slot, bool read_write) {
    // CKF_SERIAL_SESSION must always be set (§5.6 C_OpenSession).
    CK_FLAGS flags = CKF_SERIAL_SESSION;
    if (read_write) flags |= CKF_RW_SESSION;
    CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
    const CK_RV rv = module->api().C_OpenSession(slot, flags, nullptr, nullptr, &handle);
    if (rv != CKR_OK) return core::fail(rv);
    return pkcs11_session(std::move(module), handle);
}

pkcs11_session::~pkcs11_session() {
    close();
}

pkcs11_session::pkcs11_session(pkcs11_session&& other) noexcept
    : module_(std::move(other.module_)), handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)) {}

pkcs11_session& pkcs11_session::operator=(pkcs11_session&& other) noexcept {
    if (this != &other) {
        close();
        module_ = std::move(other.module_);
        handle_ = std::exchange(other.handle_, CK_INVALID_HANDLE);
    }
    return *this;
}

void pkcs11_session::close() noexcept {
    if (module_ && handle_ != CK_INVALID_HANDLE) module_->api().C_CloseSession(handle_);
    handle_ = CK_INVALID_HANDLE;
}

CK_RV pkcs11_session::login(CK_USER_TYPE user, std::string_view pin) {
    const CK_RV rv = api().C_Login(handle_, user, utf8_ptr(pin), pin.size());
    return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

CK_RV pkcs11_session::logout() {
    return api().C_Logout(handle_);
}

core::result<std::vector<CK_OBJECT_HANDLE>, CK_RV> pkcs11_session::find(
    std::span<CK_ATTRIBUTE> attributes, std::size_t max) {
    CK_RV rv = api().C_FindObjectsInit(handle_, attributes.data(), attributes.size());
    if (rv != CKR_OK) return core::fail(rv);
    std::vector<CK_OBJECT_HANDLE> found(max);
    CK_ULONG count = 0;
    rv = api().C_FindObjects(handle_, found.data(), found.size(), &count);
    // A search must always be finished, or the session refuses the next one (§5.7).
    const CK_RV final_rv = api().C_FindObjectsFinal(handle_);
    if (rv != CKR_OK) return core::fail(rv);
    if (final_rv != CKR_OK) return core::fail(final_rv);
    found.resize(count);
    return found;
}

core::result<bool, CK_RV> pkcs11_session::bool_attribute(CK_OBJECT_HANDLE object,
                                                         CK_ATTRIBUTE_TYPE type) {
    CK_BBOOL value = CK_FALSE;
    CK_ATTRIBUTE attribute{type, &value, sizeof value};
    if (CK_RV rv = api().C_GetAttributeValue(handle_, object, &attribute, 1); rv != CKR_OK)
        return core::fail(rv);
    return value == CK_TRUE;
}

}  // namespace secms::hsm::detail

// The pepper key store over a PKCS#11 token. Section numbers refer to the PKCS#11 Cryptographic
// Token Interface Base Specification v2.40; mechanisms to the Current Mechanisms Specification
// v2.40. No PIN ever reaches a log line: only return-value names and labels do.
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "server/core/log.hpp"
#include "server/hsm/key_store.hpp"
#include "server/hsm/pkcs11_module.hpp"

namespace secms::hsm {

namespace {

using detail::pkcs11_module;
using detail::pkcs11_session;
using detail::rv_name;

constexpr int pepper_version = 1;

std::string pepper_label(int version) {
    return "secms-pepper-v" + std::to_string(version);
}

// First run: give the first uninitialised token the label and both PINs (§5.5 C_InitToken,
// C_InitPIN). Returns the slot of the initialised token.
core::result<CK_SLOT_ID, hsm_error> initialise_token(const std::shared_ptr<pkcs11_module>& module,
                                                     const token_config& config) {
    if (config.so_pin.empty() || config.pin.empty()) {
        spdlog::error("PKCS#11: initialising token '{}' needs both a user PIN and an SO PIN",
                      config.token_label);
        return core::fail(hsm_error::token_init_failed);
    }
    // The SO PIN can re-set the user PIN; the two must be separate secrets.
    if (config.so_pin.reveal() == config.pin.reveal()) {
        spdlog::error("PKCS#11: refusing to initialise token '{}': the SO PIN equals the user PIN",
                      config.token_label);
        return core::fail(hsm_error::token_init_failed);
    }
    const auto label = detail::padded_label(config.token_label);
    if (!label) return core::fail(hsm_error::token_init_failed);

    auto slots = module->slots_with_token();
    if (!slots) {
        spdlog::error("PKCS#11: C_GetSlotList failed: {}", rv_name(slots.error()));
        return core::fail(hsm_error::token_init_failed);
    }
    std::optional<CK_SLOT_ID> free_slot;
    for (CK_SLOT_ID slot : *slots) {
        auto info = module->token_info(slot);
        if (info && (info->flags & CKF_TOKEN_INITIALIZED) == 0) {
            free_slot = slot;
            break;
        }
    }
    if (!free_slot) {
        spdlog::error("PKCS#11: no token labelled '{}' and no uninitialised token to create it in",
                      config.token_label);
        return core::fail(hsm_error::token_init_failed);
    }

    auto label_bytes = *label;
    const std::string_view so_pin = config.so_pin.reveal();
    CK_RV rv = module->api().C_InitToken(*free_slot, detail::utf8_ptr(so_pin), so_pin.size(),
                                         label_bytes.data());
    if (rv != CKR_OK) {
        spdlog::error("PKCS#11: C_InitToken failed: {}", rv_name(rv));
        return core::fail(hsm_error::token_init_failed);
    }
    // SoftHSM2 gives the initialised token a new slot id (and adds a fresh empty slot), so the
    // token is looked up again by its label rather than by the slot id used above.
    auto found = module->find_token(config.token_label);
    if (!found || !*found) {
        spdlog::error("PKCS#11: token '{}' not found after initialising it", config.token_label);
        return core::fail(hsm_error::token_init_failed);
    }
    const CK_SLOT_ID slot = **found;

    // C_InitPIN is called by the SO in an R/W session (§5.5 C_InitPIN).
    auto session = pkcs11_session::open(module, slot, true);
    if (!session) {
        spdlog::error("PKCS#11: C_OpenSession for initialisation failed: {}",
                      rv_name(session.error()));
        return core::fail(hsm_error::token_init_failed);
    }
    if (rv = session->login(CKU_SO, so_pin); rv != CKR_OK) {
        spdlog::error("PKCS#11: SO login on the new token failed: {}", rv_name(rv));
        return core::fail(hsm_error::token_init_failed);
    }
    const std::string_view user_pin = config.pin.reveal();
    rv = session->api().C_InitPIN(session->handle(), detail::utf8_ptr(user_pin), user_pin.size());
    const CK_RV logout_rv = session->logout();
    if (rv != CKR_OK || logout_rv != CKR_OK) {
        spdlog::error("PKCS#11: setting the user PIN failed: {} / {}", rv_name(rv),
                      rv_name(logout_rv));
        return core::fail(hsm_error::token_init_failed);
    }
    spdlog::info("PKCS#11: initialised token '{}'", config.token_label);
    return slot;
}

// Generates pepper key `version` inside the token (§5.14 C_GenerateKey, mechanism
// CKM_GENERIC_SECRET_KEY_GEN). Attributes per §4.4, §4.7 and §4.10: a private token object,
// sensitive and never extractable, so its value can never be read back (§4.10, table 33 and
// §5.7 C_GetAttributeValue); usable only to compute and check MACs.
core::result<CK_OBJECT_HANDLE, hsm_error> generate_pepper(pkcs11_session& session, int version) {
    std::string label = pepper_label(version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
    CK_ULONG value_len = 32;  // as long as the SHA-256 output, as RFC 2104 §3 recommends
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE attributes[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &key_type, sizeof key_type},
        {CKA_VALUE_LEN, &value_len, sizeof value_len},
        {CKA_LABEL, label.data(), label.size()},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_SIGN, &yes, sizeof yes},
        {CKA_VERIFY, &yes, sizeof yes},
        // No key may be derived from the pepper: a derived key could be made extractable.
        {CKA_DERIVE, &no, sizeof no},
    };
    CK_MECHANISM mechanism{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    const CK_RV rv = session.api().C_GenerateKey(session.handle(), &mechanism, attributes,
                                                 std::size(attributes), &key);
    if (rv != CKR_OK) {
        spdlog::error("PKCS#11: generating pepper key '{}' failed: {}", label, rv_name(rv));
        return core::fail(hsm_error::key_generation_failed);
    }
    spdlog::info("PKCS#11: generated pepper key '{}' inside the token", label);
    return key;
}

// Finds pepper key `version`. An absent key is nullopt; two keys with one label, or a key whose
// value could leave the token, is refused: the pepper must be one key that never leaves.
core::result<std::optional<CK_OBJECT_HANDLE>, hsm_error> find_pepper(pkcs11_session& session,
                                                                     int version) {
    std::string label = pepper_label(version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE attributes[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_LABEL, label.data(), label.size()},
    };
    auto found = session.find(attributes, 2);
    if (!found) {
        spdlog::error("PKCS#11: searching for pepper key '{}' failed: {}", label,
                      rv_name(found.error()));
        return core::fail(hsm_error::mechanism_failed);
    }
    if (found->empty()) return std::optional<CK_OBJECT_HANDLE>();
    if (found->size() > 1) {
        spdlog::error("PKCS#11: more than one key is labelled '{}'; refusing to guess", label);
        return core::fail(hsm_error::key_missing);
    }
    const CK_OBJECT_HANDLE key = found->front();
    auto sensitive = session.bool_attribute(key, CKA_SENSITIVE);
    auto extractable = session.bool_attribute(key, CKA_EXTRACTABLE);
    if (!sensitive || !extractable || !*sensitive || *extractable) {
        spdlog::error("PKCS#11: pepper key '{}' is not sensitive and non-extractable; refusing it",
                      label);
        return core::fail(hsm_error::key_missing);
    }
    return std::optional<CK_OBJECT_HANDLE>(key);
}

class pkcs11_key_store final : public key_store {
  public:
    pkcs11_key_store(pkcs11_session session, CK_OBJECT_HANDLE current_key)
        : session_(std::move(session)) {
        keys_.emplace(pepper_version, current_key);
    }

    int current_pepper_version() const override { return pepper_version; }

    core::result<std::array<std::uint8_t, 32>, hsm_error> pepper_mac(
        int version, std::span<const std::uint8_t> data) override {
        // One session, one operation at a time: a session runs a single signing operation
        // (§5.11), and the HMAC costs microseconds next to the Argon2id hash it follows.
        std::lock_guard lock(mutex_);
        auto key = key_for(version);
        if (!key) return core::fail(key.error());

        CK_MECHANISM mechanism{CKM_SHA256_HMAC, nullptr, 0};
        CK_RV rv = session_.api().C_SignInit(session_.handle(), &mechanism, *key);
        if (rv != CKR_OK) {
            spdlog::error("PKCS#11: C_SignInit with pepper v{} failed: {}", version, rv_name(rv));
            return core::fail(hsm_error::mechanism_failed);
        }
        // C_Sign wants a pointer even for empty input; it does not write through it.
        std::uint8_t empty = 0;
        auto* in = data.empty() ? &empty : const_cast<std::uint8_t*>(data.data());
        std::array<std::uint8_t, 32> mac{};
        CK_ULONG mac_len = mac.size();
        // C_Sign ends the operation whatever it returns, except CKR_BUFFER_TOO_SMALL, which
        // cannot happen with a 32-byte buffer for SHA-256 (§5.11 C_Sign).
        rv = session_.api().C_Sign(session_.handle(), in, data.size(), mac.data(), &mac_len);
        if (rv != CKR_OK || mac_len != mac.size()) {
            spdlog::error("PKCS#11: C_Sign with pepper v{} failed: {}", version, rv_name(rv));
            return core::fail(hsm_error::mechanism_failed);
        }
        return mac;
    }

  private:
    // Older pepper versions are looked up on first use (hashes made before a pepper rotation).
    core::result<CK_OBJECT_HANDLE, hsm_error> key_for(int version) {
        if (auto it = keys_.find(version); it != keys_.end()) return it->second;
        auto found = find_pepper(session_, version);
        if (!found) return core::fail(found.error());
        if (!*found) return core::fail(hsm_error::key_missing);
        keys_.emplace(version, **found);
        return **found;
    }

    std::mutex mutex_;
    pkcs11_session session_;
    std::map<int, CK_OBJECT_HANDLE> keys_;
};

}  // namespace

std::string_view message(hsm_error e) noexcept {
    switch (e) {
        case hsm_error::module_load_failed:
            return "cannot load or initialise the PKCS#11 module";
        case hsm_error::token_not_found:
            return "no PKCS#11 token has the configured label";
        case hsm_error::token_init_failed:
            return "could not initialise the PKCS#11 token on first run";
        case hsm_error::login_failed:
            return "could not log in to the PKCS#11 token (wrong or unreadable PIN)";
        case hsm_error::key_missing:
            return "the PKCS#11 token holds no usable pepper key of the requested version";
        case hsm_error::key_generation_failed:
            return "could not generate the pepper key inside the PKCS#11 token";
        case hsm_error::mechanism_failed:
            return "the PKCS#11 token refused or failed the operation";
    }
    return "unknown key store error";
}

core::result<std::unique_ptr<key_store>, hsm_error> open_pkcs11_key_store(
    const token_config& config) {
    auto module = pkcs11_module::open(config.module_path);
    if (!module) return core::fail(module.error());

    auto found = (*module)->find_token(config.token_label);
    if (!found) {
        spdlog::error("PKCS#11: listing tokens failed: {}", rv_name(found.error()));
        return core::fail(hsm_error::token_not_found);
    }
    std::optional<CK_SLOT_ID> slot = *found;
    if (!slot) {
        if (!config.initialise_if_missing) {
            spdlog::error("PKCS#11: no token labelled '{}'", config.token_label);
            return core::fail(hsm_error::token_not_found);
        }
        auto initialised = initialise_token(*module, config);
        if (!initialised) return core::fail(initialised.error());
        slot = *initialised;
    }

    // R/W: generating the pepper creates a token object, which a read-only session may not
    // (§5.6 C_OpenSession, CKR_SESSION_READ_ONLY).
    auto session = pkcs11_session::open(*module, *slot, true);
    if (!session) {
        spdlog::error("PKCS#11: C_OpenSession failed: {}", rv_name(session.error()));
        return core::fail(hsm_error::mechanism_failed);
    }
    if (CK_RV rv = session->login(CKU_USER, config.pin.reveal()); rv != CKR_OK) {
        spdlog::error("PKCS#11: user login to token '{}' failed: {}", config.token_label,
                      rv_name(rv));
        return core::fail(hsm_error::login_failed);
    }

    auto key = find_pepper(*session, pepper_version);
    if (!key) return core::fail(key.error());
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    if (*key) {
        handle = **key;
    } else {
        auto generated = generate_pepper(*session, pepper_version);
        if (!generated) return core::fail(generated.error());
        handle = *generated;
    }
    return std::unique_ptr<key_store>(
        std::make_unique<pkcs11_key_store>(std::move(session).value(), handle));
}

}  // namespace secms::hsm

// The pepper key store over a PKCS#11 token. Section numbers refer to the PKCS#11 Cryptographic
// Token Interface Base Specification v2.40; mechanisms to the Current Mechanisms Specification
// v2.40. No PIN ever reaches a log line: only return-value names and labels do.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
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

// Return values after which the session, and every object handle found in it, are no longer
// usable (§5.1 return values; §5.6: a removed token closes all its sessions): the token was
// removed or reset, the module restarted, or a handle went stale when the token reloaded.
bool token_lost(CK_RV rv) {
    switch (rv) {
        case CKR_SESSION_HANDLE_INVALID:
        case CKR_SESSION_CLOSED:
        case CKR_DEVICE_REMOVED:
        case CKR_DEVICE_ERROR:
        case CKR_TOKEN_NOT_PRESENT:
        case CKR_TOKEN_NOT_RECOGNIZED:
        case CKR_KEY_HANDLE_INVALID:
        case CKR_OBJECT_HANDLE_INVALID:
        case CKR_USER_NOT_LOGGED_IN:
        case CKR_CRYPTOKI_NOT_INITIALIZED:
        case CKR_GENERAL_ERROR:
            return true;
        default:
            return false;
    }
}

class pkcs11_key_store final : public key_store {
  public:
    pkcs11_key_store(std::shared_ptr<pkcs11_module> module, const token_config& config,
                     pkcs11_session session, CK_OBJECT_HANDLE current_key)
        : module_(std::move(module)),
          label_(config.token_label),
          pin_(std::string(config.pin.reveal())),
          first_wait_(config.reopen_first_wait),
          longest_wait_(config.reopen_longest_wait),
          session_(std::move(session)) {
        keys_.emplace(pepper_version, current_key);
    }

    int current_pepper_version() const override { return pepper_version; }

    core::result<std::array<std::uint8_t, 32>, hsm_error> pepper_mac(
        int version, std::span<const std::uint8_t> data) override {
        // One session, one operation at a time: a session runs a single signing operation
        // (§5.11), and the HMAC costs microseconds next to the Argon2id hash it follows.
        std::lock_guard lock(mutex_);
        return mac_locked(version, data);
    }

    bool reachable() const override { return reachable_.load(); }

    bool probe() override {
        std::lock_guard lock(mutex_);
        auto now = std::chrono::steady_clock::now();
        if (last_probe_ && now - *last_probe_ < std::chrono::seconds(1)) return reachable_.load();
        last_probe_ = now;
        static constexpr std::string_view probe_input = "secms token probe";
        (void)mac_locked(pepper_version, {reinterpret_cast<const std::uint8_t*>(probe_input.data()),
                                          probe_input.size()});
        return reachable_.load();
    }

  private:
    core::result<std::array<std::uint8_t, 32>, hsm_error> mac_locked(
        int version, std::span<const std::uint8_t> data) {
        // Twice at most: a token lost since the last call is reopened at once and asked again,
        // so a restarted HSM costs no failed login; a token still gone fails fast.
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!session_ && !reopen()) return core::fail(hsm_error::token_unavailable);
            auto key = key_for(version);
            if (!key) {
                if (key.error() != hsm_error::token_unavailable) return core::fail(key.error());
                continue;
            }
            CK_RV rv = CKR_OK;
            auto mac = sign(*key, data, rv);
            if (mac) {
                reachable_ = true;
                return *mac;
            }
            if (!token_lost(rv)) return core::fail(hsm_error::mechanism_failed);
            spdlog::warn("PKCS#11: token '{}' lost ({}); reopening it", label_, rv_name(rv));
            drop();
        }
        return core::fail(hsm_error::token_unavailable);
    }

    std::optional<std::array<std::uint8_t, 32>> sign(CK_OBJECT_HANDLE key,
                                                     std::span<const std::uint8_t> data,
                                                     CK_RV& rv) {
        CK_MECHANISM mechanism{CKM_SHA256_HMAC, nullptr, 0};
        rv = session_->api().C_SignInit(session_->handle(), &mechanism, key);
        if (rv != CKR_OK) {
            spdlog::error("PKCS#11: C_SignInit failed: {}", rv_name(rv));
            return std::nullopt;
        }
        // C_Sign wants a pointer even for empty input; it does not write through it.
        std::uint8_t empty = 0;
        auto* in = data.empty() ? &empty : const_cast<std::uint8_t*>(data.data());
        std::array<std::uint8_t, 32> mac{};
        CK_ULONG mac_len = mac.size();
        // C_Sign ends the operation whatever it returns, except CKR_BUFFER_TOO_SMALL, which
        // cannot happen with a 32-byte buffer for SHA-256 (§5.11 C_Sign).
        rv = session_->api().C_Sign(session_->handle(), in, data.size(), mac.data(), &mac_len);
        if (rv != CKR_OK || mac_len != mac.size()) {
            spdlog::error("PKCS#11: C_Sign failed: {}", rv_name(rv));
            if (rv == CKR_OK) rv = CKR_FUNCTION_FAILED;
            return std::nullopt;
        }
        return mac;
    }

    // Older pepper versions are looked up on first use (hashes made before a pepper rotation).
    core::result<CK_OBJECT_HANDLE, hsm_error> key_for(int version) {
        if (auto it = keys_.find(version); it != keys_.end()) return it->second;
        auto found = find_pepper(*session_, version);
        if (!found) {
            // A refused key stays refused; a search that failed means the session is gone.
            if (found.error() != hsm_error::mechanism_failed) return core::fail(found.error());
            drop();
            return core::fail(hsm_error::token_unavailable);
        }
        if (!*found) return core::fail(hsm_error::key_missing);
        keys_.emplace(version, **found);
        return **found;
    }

    // Forgets the session and every handle found in it.
    void drop() {
        session_.reset();
        keys_.clear();
        reachable_ = false;
    }

    // Finds the token again, logs in and finds the current pepper; never generates one (a new
    // pepper would silently invalidate every stored password). Not before the back-off allows.
    bool reopen() {
        auto now = std::chrono::steady_clock::now();
        if (now < next_reopen_) return false;
        bool opened = open_session();
        // SoftHSM2 (and a module whose device was reset) only sees a token that came back after
        // the module is initialised again; no session of ours is open at this point.
        if (!opened && module_->reinitialise()) opened = open_session();
        if (!opened) {
            wait_ = wait_.count() == 0 ? first_wait_ : std::min(wait_ * 2, longest_wait_);
            next_reopen_ = now + wait_;
            reachable_ = false;
            return false;
        }
        spdlog::info("PKCS#11: token '{}' reopened", label_);
        wait_ = std::chrono::milliseconds{0};
        next_reopen_ = {};
        return true;
    }

    bool open_session() {
        auto slot = module_->find_token(label_);
        if (!slot || !*slot) return false;
        auto session = pkcs11_session::open(module_, **slot, false);
        if (!session) return false;
        if (session->login(CKU_USER, pin_.reveal()) != CKR_OK) return false;
        auto key = find_pepper(*session, pepper_version);
        if (!key || !*key) return false;
        keys_.clear();
        keys_.emplace(pepper_version, **key);
        session_ = std::move(session).value();
        return true;
    }

    std::mutex mutex_;
    std::shared_ptr<pkcs11_module> module_;
    std::string label_;
    core::secret_string pin_;
    std::chrono::milliseconds first_wait_;
    std::chrono::milliseconds longest_wait_;
    std::optional<pkcs11_session> session_;
    std::map<int, CK_OBJECT_HANDLE> keys_;
    std::atomic<bool> reachable_{true};
    std::chrono::milliseconds wait_{0};
    std::chrono::steady_clock::time_point next_reopen_{};
    std::optional<std::chrono::steady_clock::time_point> last_probe_;
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
        case hsm_error::token_unavailable:
            return "the PKCS#11 token is not reachable (removed, reset or closed); it is reopened "
                   "on a later use";
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
        std::make_unique<pkcs11_key_store>(*module, config, std::move(session).value(), handle));
}

}  // namespace secms::hsm

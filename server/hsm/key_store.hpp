// KeyStore: server secrets that never leave the token (DESIGN.md §2). The pepper is an HMAC key
// generated inside the token (CKA_SENSITIVE, non-extractable); the server only asks for MACs.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::hsm {

enum class hsm_error {
    module_load_failed,  // the PKCS#11 module could not be loaded or initialised
    token_not_found,     // no token with the configured label
    token_init_failed,   // first-run initialisation of the token failed
    login_failed,        // wrong PIN, or the PIN could not be read
    key_missing,         // no pepper key of the requested version
    key_generation_failed,
    mechanism_failed,   // the token refused or failed the operation
    token_unavailable,  // the token was lost (removed, reset, session gone); retried later
};

std::string_view message(hsm_error e) noexcept;

struct token_config {
    std::filesystem::path module_path = "/usr/lib/softhsm/libsofthsm2.so";
    std::string token_label = "secms";
    // User PIN of the token. Read from pin_file by the app; never logged.
    core::secret_string pin;
    // Security Officer PIN, used only when initialise_if_missing initialises a token. It must
    // differ from the user PIN: the app generates a random one and keeps it in a 0600 file.
    core::secret_string so_pin;
    // When true and no token has the label, the first free slot is initialised with it
    // (SoftHSM2 first run). A real HSM is prepared by its operator and keeps this false.
    bool initialise_if_missing = true;
    // After the token was lost, reopening it is tried on the next use, then no sooner than
    // these waits (doubling from the first to the longest) while it keeps failing.
    std::chrono::milliseconds reopen_first_wait{250};
    std::chrono::milliseconds reopen_longest_wait{5000};
};

class key_store {
  public:
    virtual ~key_store() = default;

    // The pepper version new hashes use.
    virtual int current_pepper_version() const = 0;

    // HMAC-SHA-256 over `data` with pepper key `version`, computed inside the token.
    virtual core::result<std::array<std::uint8_t, 32>, hsm_error> pepper_mac(
        int version, std::span<const std::uint8_t> data) = 0;

    // Whether the token answered the latest operation (no call to the token).
    virtual bool reachable() const { return true; }

    // Checks the token now with one MAC, reopening it if it was lost; at most once a second,
    // otherwise the latest answer is repeated (health checks may come often).
    virtual bool probe() { return reachable(); }
};

// Opens the PKCS#11 token, logs in, and makes sure pepper key version 1 exists (generating it
// inside the token, CKA_SENSITIVE true, CKA_EXTRACTABLE false, on first run).
// Thread-safe: pepper_mac may be called from several threads.
core::result<std::unique_ptr<key_store>, hsm_error> open_pkcs11_key_store(
    const token_config& config);

// For unit tests of other modules only: a software key store holding a random key.
std::unique_ptr<key_store> make_memory_key_store();

}  // namespace secms::hsm

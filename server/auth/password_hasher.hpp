// Password hashing: Argon2id (RFC 9106) via libsodium, then HMAC-SHA-256 of the Argon2id output
// with the pepper key inside the PKCS#11 token. A stolen database alone cannot be attacked offline
// without the token. Stored form:
//   $secms-argon2id-hmac$v=19$m=<KiB>,t=<passes>,p=1$<salt, base64>$<mac, base64>
// plus the pepper version in its own column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/auth/auth_error.hpp"
#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/hsm/key_store.hpp"

namespace secms::auth {

struct argon2_params {
    // OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
    std::uint32_t memory_kib = 19 * 1024;
    std::uint32_t passes = 2;
};

// Refuses parameters below the OWASP minimum.
bool meets_minimum(const argon2_params& p) noexcept;

struct password_hash {
    std::string encoded;
    int pepper_version = 1;
};

class password_hasher {
  public:
    password_hasher(hsm::key_store& keys, argon2_params params);

    // Slow by design (tens of milliseconds): call from the worker pool, never an I/O thread.
    core::result<password_hash, auth_error> hash(const core::secret_string& password) const;

    // True when `password` matches. Parameters are read from the stored string, so older hashes
    // keep verifying after the defaults grow.
    core::result<bool, auth_error> verify(const core::secret_string& password,
                                          std::string_view encoded, int pepper_version) const;

    // Does the same work as verify() for a user that does not exist, so that an unknown name and
    // a wrong password take similar time (no user enumeration by timing).
    void burn_equivalent_time(const core::secret_string& password) const;

    // Whether a stored hash should be recomputed with the current parameters or pepper.
    bool needs_rehash(std::string_view encoded, int pepper_version) const;

    const argon2_params& params() const noexcept { return params_; }

  private:
    hsm::key_store& keys_;
    argon2_params params_;
};

}  // namespace secms::auth

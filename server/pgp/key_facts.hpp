// Private to server/pgp: what the checks need to know about one key, read from librnp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

namespace secms::pgp::detail {

// Thrown when rnp fails to describe a key it has already imported; caught at the public entry
// points and reported as an unsupported certificate. Never escapes the module.
struct rnp_failure {};

inline void check(rnp_result_t r) {
    if (r != RNP_SUCCESS) {
        throw rnp_failure{};
    }
}

std::string key_text(rnp_key_handle_t key, rnp_result_t (*get)(rnp_key_handle_t, char**));
bool key_flag(rnp_key_handle_t key, rnp_result_t (*get)(rnp_key_handle_t, bool*));
bool uid_flag(rnp_uid_handle_t uid, rnp_result_t (*get)(rnp_uid_handle_t, bool*));

struct key_facts {
    std::string fingerprint;
    std::string key_id;
    std::string rnp_algorithm;  // RNP_ALGNAME_*
    std::string algorithm;      // for people: "EdDSA", "RSA", ...
    std::uint32_t bits = 0;
    // RSA only: the public exponent's bit length and parity, read back from librnp (0 otherwise).
    std::uint32_t rsa_exponent_bits = 0;
    bool rsa_exponent_odd = false;
    std::string curve;
    std::int64_t created = 0;
    std::int64_t expires = 0;  // 0 = never
    std::vector<std::string> usage;
    bool can_sign = false;  // has the sign usage flag
    bool revoked = false;
    bool expired = false;    // at the checker's time
    bool rnp_valid = false;  // rnp: bound by a good self-signature, not revoked or expired

    bool can_be_used_now() const noexcept { return rnp_valid && !revoked && !expired; }
    bool can_sign_now() const noexcept { return can_sign && can_be_used_now(); }
};

key_facts read_key_facts(rnp_key_handle_t key, std::int64_t now_unix);

// RSA under 2048 bits, DSA, ElGamal (docs/certificates.md).
bool is_weak(const key_facts& key) noexcept;
// Algorithms the server and the browsers can use: RSA, EdDSA, ECDSA, ECDH.
bool is_supported(const key_facts& key) noexcept;
// The scan's cost rule (docs/certificates.md check 9) on what librnp holds: an RSA modulus over
// max_rsa_bits, or a public exponent even, under 3 or of 2^32 or more.
bool exceeds_rsa_cost_limits(const key_facts& key, std::uint32_t max_rsa_bits) noexcept;

}  // namespace secms::pgp::detail

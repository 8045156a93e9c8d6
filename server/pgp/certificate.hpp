// OpenPGP certificate checks for login (docs/certificates.md): the browser submits its public
// certificate and proves it holds the private key by signing a fresh challenge. Certificates live
// in memory only, never in the database, a file or a log.
//
// Every function is thread-safe: each call works in its own in-memory librnp keyring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "server/core/result.hpp"

namespace secms::pgp {

// Why a submitted certificate is refused, in the order the checks run.
enum class certificate_error {
    empty,                 // nothing was submitted
    too_large,             // over pgp_limits (bytes, user IDs, subkeys or signatures)
    not_openpgp,           // not an OpenPGP certificate, or damaged / truncated
    no_certificate,        // OpenPGP data, but a message or signature rather than a key
    secret_key_material,   // a private key was submitted
    several_certificates,  // more than one certificate
    subkey_only,           // a subkey without its primary key
    unsupported,           // key version or algorithm the server cannot check
    no_user_id,            // no user ID with a good self-signature that is not revoked
    weak_algorithm,        // RSA < 2048 bits, DSA or ElGamal
    sha1_self_signature,   // a self-signature made with SHA-1 (or MD5 / RIPEMD-160)
    bad_self_signature,    // a self-signature or binding that does not verify
    revoked,               // the primary key is revoked
    expired,               // the primary key is expired at the time of the check
    no_signing_key,        // neither the primary key nor a subkey can sign now
};

// Why a proof of possession is refused.
enum class possession_error {
    empty,              // no signature was submitted
    too_large,          // signature over pgp_limits::max_signature_bytes
    not_a_signature,    // not an OpenPGP detached signature
    bad_certificate,    // the certificate it is checked against does not load
    unknown_signer,     // made by a key that is not part of the certificate
    weak_hash,          // made with SHA-1 (or MD5 / RIPEMD-160)
    key_cannot_sign,    // made by a key of the certificate not allowed or valid to sign
    bad_signature,      // does not verify over the challenge (other data, or altered)
    signature_expired,  // the signature carries an expiry time that has passed
};

// Stable snake_case codes for the API ("revoked", "weak_algorithm", ...).
std::string_view code(certificate_error e) noexcept;
std::string_view code(possession_error e) noexcept;
// One sentence for the user.
std::string_view message(certificate_error e) noexcept;
std::string_view message(possession_error e) noexcept;

struct subkey_info {
    std::string fingerprint;  // upper-case hex
    std::string key_id;       // upper-case hex, 16 characters
    std::string algorithm;    // "EdDSA", "ECDH", "RSA", ...
    std::uint32_t bits = 0;
    std::string curve;               // "Ed25519", "Curve25519", ... (empty for RSA)
    std::int64_t created = 0;        // Unix time
    std::int64_t expires = 0;        // Unix time, 0 = never
    std::vector<std::string> usage;  // among "sign", "certify", "encrypt", "authenticate"
    bool revoked = false;
    bool valid = false;  // bound by a good signature, not revoked, not expired at check time
};

enum class signature_status {
    verified,        // verifies with the issuer's key
    issuer_unknown,  // the issuer's certificate is not known to the server: not checked
    invalid,         // does not verify (or is made with a hash the server refuses)
    expired,         // verifies but has expired
};
std::string_view code(signature_status s) noexcept;

struct signature_info {
    std::string issuer_key_id;       // upper-case hex, 16 characters
    std::string issuer_fingerprint;  // empty when the signature does not name it
    std::string type;                // "positive certification", "subkey binding", ...
    std::string hash_algorithm;      // "SHA256", ...
    std::int64_t created = 0;
    signature_status status = signature_status::issuer_unknown;
    bool self_signature = false;  // made by the certificate's own primary key
    std::string on_user_id;       // the user ID it certifies, if any
    std::string on_subkey;        // fingerprint of the subkey it binds or revokes, if any
};

struct certificate_report {
    std::string name;                   // from the primary user ID
    std::string email;                  // from the primary user ID
    std::vector<std::string> user_ids;  // user IDs with a good self-signature, not revoked
    std::string fingerprint;            // upper-case hex, 40 characters (v4)
    std::string key_id;                 // upper-case hex, 16 characters
    std::string algorithm;
    std::uint32_t bits = 0;
    std::string curve;
    std::int64_t created = 0;
    std::int64_t expires = 0;  // 0 = never
    std::vector<std::string> usage;
    std::vector<subkey_info> subkeys;
    std::vector<signature_info> signatures;
    std::string armored;  // the public certificate as re-encoded by the server
};

// Every limit is checked before librnp verifies anything (packet_scan.hpp), since librnp checks
// each self-signature while it imports a key; the sizes bound the CPU one submission can cost.
struct pgp_limits {
    std::size_t max_certificate_bytes = 64 * 1024;
    std::size_t max_signature_bytes = 16 * 1024;
    std::size_t max_packets = 1000;
    std::size_t max_user_ids = 32;  // user ID and user attribute packets
    std::size_t max_subkeys = 16;
    std::size_t max_signatures = 256;
    // Self-signatures on one user ID (and the primary key's own direct signatures).
    std::size_t max_self_signatures_per_user_id = 8;
    std::size_t max_signatures_per_subkey = 8;  // bindings and revocations of one subkey
    // RSA modulus, and DSA / ElGamal prime, at most this many bits (8192 is allowed by
    // configuration; RSA public exponents are always odd and below 2^32).
    std::uint32_t max_rsa_bits = 4096;
};

// A certificate the server holds in memory (another logged-in user's).
struct known_certificate {
    std::string key_id;                     // of the primary key
    std::vector<std::string> fingerprints;  // primary first, then subkeys
    std::string armored;
};

// The certificates against which third-party certifications are checked. Internally
// synchronised; it holds copies, so entries stay valid while a check reads them.
class known_certificates {
  public:
    // Remembers an accepted certificate, replacing an older copy with the same fingerprint.
    void add(const certificate_report& report);
    void remove(std::string_view fingerprint);
    std::size_t size() const;

    // Certificates whose primary key has this 16-hex key ID (64-bit IDs can collide).
    std::vector<known_certificate> find_by_key_id(std::string_view key_id) const;

  private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, known_certificate, std::less<>> by_fingerprint_;
};

// Checks one submitted certificate (armored or binary) at time now_unix and builds its report.
core::result<certificate_report, certificate_error> verify_certificate(
    std::string_view data, std::int64_t now_unix, const pgp_limits& limits = {},
    const known_certificates* known = nullptr);

// Checks a detached signature (armored or binary) over challenge by a key of the certificate
// that may sign at now_unix.
core::status<possession_error> verify_possession(const certificate_report& certificate,
                                                 std::span<const std::uint8_t> challenge,
                                                 std::string_view detached_signature,
                                                 std::int64_t now_unix,
                                                 const pgp_limits& limits = {});

boost::json::value to_json(const certificate_report& report);

}  // namespace secms::pgp

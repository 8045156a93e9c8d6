// A strict pre-scan of a submitted certificate, run before librnp sees it (docs/certificates.md,
// "Before librnp"). librnp verifies every self-signature while it imports a key, so a key whose
// size or public exponent makes each verification expensive costs its CPU before any check after
// the import could refuse it. The scan reads only packet framing (RFC 9580 §4.2) and the public
// key fields that decide the cost of a verification, and counts packets, user IDs, subkeys and
// signatures. It verifies nothing and allocates only the decoded bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/pgp/certificate.hpp"

namespace secms::pgp {

// Removes ASCII armor (RFC 9580 §6.2): every armored block in the input, concatenated, so that a
// second block is scanned too. Binary input (first octet with bit 7 set, RFC 9580 §4.2) is
// returned unchanged. The CRC-24 line is ignored, as RFC 9580 §6.1 requires. A cleartext signed
// message is `no_certificate`; no armor, bad base64 or a block without its END line is
// `not_openpgp`.
core::result<std::vector<std::uint8_t>, certificate_error> decode_certificate_input(
    std::string_view data);

// What the scan learnt about the certificate it passed, for the checks after librnp's import.
struct scanned_certificate {
    // The primary key's v4 fingerprint (RFC 9580 §5.5.4.2), upper-case hex; empty for a key of
    // another version (refused after the import, check 17).
    std::string fingerprint;
};

// Walks the packets of one decoded certificate and refuses, without verifying anything:
//  - framing errors, partial or indeterminate lengths, truncation          → not_openpgp
//  - a secret-key packet anywhere                                          → secret_key_material
//  - a packet a transferable public key cannot hold (RFC 9580 §10.1):
//    a message packet                                                      → no_certificate
//    any other tag, or a marker whose body is not "PGP" (§5.8)             → not_openpgp
//  - a first packet that is a signature or message packet                 → no_certificate
//  - a first packet that is a subkey                                       → subkey_only
//  - a second primary key                                                  → several_certificates
//  - a DSA or ElGamal primary key                                          → weak_algorithm
//  - a public-key algorithm not in RFC 9580 §9.1,
//    RSA modulus over max_rsa_bits, RSA exponent even, < 3 or ≥ 2^32,
//    DSA/ElGamal prime over max_rsa_bits, DSA q over 256 bits             → unsupported
//  - over max_packets, max_user_ids, max_subkeys, max_signatures,
//    max_self_signatures_per_user_id (also the primary key's direct
//    signatures) or max_signatures_per_subkey                              → too_large
//  - the text "-----BEGIN PGP" anywhere in the bytes                       → not_openpgp
//    (librnp would take it for armor and read the key inside instead)
core::result<scanned_certificate, certificate_error> scan_certificate_packets(
    std::span<const std::uint8_t> packets, const pgp_limits& limits);

}  // namespace secms::pgp

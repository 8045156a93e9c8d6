// Proof of possession: a detached signature over the server's challenge by a key of the submitted
// certificate that may sign now (docs/certificates.md).
#include <optional>

#include "server/pgp/certificate.hpp"
#include "server/pgp/key_facts.hpp"
#include "server/pgp/rnp_handles.hpp"

namespace secms::pgp {

std::string_view code(possession_error e) noexcept {
    switch (e) {
        case possession_error::empty:
            return "empty";
        case possession_error::too_large:
            return "too_large";
        case possession_error::not_a_signature:
            return "not_a_signature";
        case possession_error::bad_certificate:
            return "bad_certificate";
        case possession_error::unknown_signer:
            return "unknown_signer";
        case possession_error::weak_hash:
            return "weak_hash";
        case possession_error::key_cannot_sign:
            return "key_cannot_sign";
        case possession_error::bad_signature:
            return "bad_signature";
        case possession_error::signature_expired:
            return "signature_expired";
    }
    return "unknown";
}

std::string_view message(possession_error e) noexcept {
    switch (e) {
        case possession_error::empty:
            return "No signature of the challenge was submitted.";
        case possession_error::too_large:
            return "The signature is too large.";
        case possession_error::not_a_signature:
            return "This is not an OpenPGP detached signature.";
        case possession_error::bad_certificate:
            return "The certificate to check the signature against could not be loaded.";
        case possession_error::unknown_signer:
            return "The challenge was signed by a key that is not in your certificate.";
        case possession_error::weak_hash:
            return "The signature uses the broken SHA-1 hash (or another weak one).";
        case possession_error::key_cannot_sign:
            return "The challenge was signed by a key of your certificate that may not sign.";
        case possession_error::bad_signature:
            return "The signature does not match the challenge.";
        case possession_error::signature_expired:
            return "The signature has expired.";
    }
    return "Unknown proof-of-possession error.";
}

namespace {

using namespace detail;

// Why one signature does not prove possession, or nothing when it does.
std::optional<possession_error> judge(rnp_op_verify_signature_t sig, std::int64_t now_unix) {
    rnp_string hash;
    check(rnp_op_verify_signature_get_hash(sig, hash.out()));
    if (is_weak_hash(hash.view())) {
        return possession_error::weak_hash;
    }
    const rnp_result_t status = rnp_op_verify_signature_get_status(sig);
    key_handle signer;
    if (status == RNP_ERROR_KEY_NOT_FOUND ||
        !succeeded(rnp_op_verify_signature_get_key(sig, signer.out())) || !signer) {
        return possession_error::unknown_signer;
    }
    if (status == RNP_ERROR_SIGNATURE_EXPIRED) {
        return possession_error::signature_expired;
    }
    if (status != RNP_SUCCESS) {
        return possession_error::bad_signature;
    }
    // Only a signature over the bytes themselves (RFC 4880 §5.2.1 types 0x00 and 0x01) counts; a
    // key or user ID certification cannot stand for a signed challenge.
    signature_handle handle;
    check(rnp_op_verify_signature_get_handle(sig, handle.out()));
    rnp_string type;
    check(rnp_signature_get_type(handle.get(), type.out()));
    if (type.view() != "binary" && type.view() != "text") {
        return possession_error::bad_signature;
    }
    if (!read_key_facts(signer.get(), now_unix).can_sign_now()) {
        return possession_error::key_cannot_sign;
    }
    return std::nullopt;
}

core::status<possession_error> check_possession(const certificate_report& certificate,
                                                std::span<const std::uint8_t> challenge,
                                                std::string_view detached_signature,
                                                std::int64_t now_unix) {
    auto f = make_ffi(now_unix);
    auto cert_in = memory_input(as_bytes(certificate.armored));
    if (!f || !cert_in || certificate.armored.empty() ||
        !succeeded(rnp_import_keys(f->get(), cert_in->get(),
                                   RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SINGLE, nullptr))) {
        return core::fail(possession_error::bad_certificate);
    }

    auto sig_in = memory_input(as_bytes(detached_signature));
    auto data_in = memory_input(challenge);
    if (!sig_in || !data_in) {
        throw rnp_failure{};
    }
    {
        rnp_string contents;  // peeks only
        if (!succeeded(rnp_guess_contents(sig_in->get(), contents.out())) ||
            contents.view() != "signature") {
            return core::fail(possession_error::not_a_signature);
        }
    }
    verify_handle op;
    if (!succeeded(
            rnp_op_verify_detached_create(op.out(), f->get(), data_in->get(), sig_in->get()))) {
        return core::fail(possession_error::not_a_signature);
    }
    // The verdict comes from each signature's own status below; execute's result only says
    // whether at least one was good, or that the signature data could not be read.
    const rnp_result_t executed = rnp_op_verify_execute(op.get());
    std::size_t count = 0;
    if (!succeeded(rnp_op_verify_get_signature_count(op.get(), &count)) || count == 0) {
        (void)executed;
        return core::fail(possession_error::not_a_signature);
    }
    std::optional<possession_error> first_error;
    for (std::size_t i = 0; i < count; ++i) {
        rnp_op_verify_signature_t sig = nullptr;  // owned by op
        check(rnp_op_verify_get_signature_at(op.get(), i, &sig));
        const auto verdict = judge(sig, now_unix);
        if (!verdict) {
            return core::ok;
        }
        if (!first_error) {
            first_error = verdict;
        }
    }
    return core::fail(*first_error);
}

}  // namespace

core::status<possession_error> verify_possession(const certificate_report& certificate,
                                                 std::span<const std::uint8_t> challenge,
                                                 std::string_view detached_signature,
                                                 std::int64_t now_unix, const pgp_limits& limits) {
    if (detached_signature.empty()) {
        return core::fail(possession_error::empty);
    }
    if (detached_signature.size() > limits.max_signature_bytes) {
        return core::fail(possession_error::too_large);
    }
    try {
        return check_possession(certificate, challenge, detached_signature, now_unix);
    } catch (const rnp_failure&) {
        // rnp could not describe the signature or the key it found: treat as unreadable.
        return core::fail(possession_error::not_a_signature);
    }
}

}  // namespace secms::pgp

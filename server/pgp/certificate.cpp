// Certificate checks over librnp (docs/certificates.md). One in-memory keyring per call; no file
// is ever read or written, nothing is logged.
#include "server/pgp/certificate.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "server/pgp/key_facts.hpp"
#include "server/pgp/packet_scan.hpp"
#include "server/pgp/rnp_handles.hpp"

namespace secms::pgp {

std::string_view code(certificate_error e) noexcept {
    switch (e) {
        case certificate_error::empty:
            return "empty";
        case certificate_error::too_large:
            return "too_large";
        case certificate_error::not_openpgp:
            return "not_openpgp";
        case certificate_error::no_certificate:
            return "no_certificate";
        case certificate_error::secret_key_material:
            return "secret_key_material";
        case certificate_error::several_certificates:
            return "several_certificates";
        case certificate_error::subkey_only:
            return "subkey_only";
        case certificate_error::unsupported:
            return "unsupported";
        case certificate_error::no_user_id:
            return "no_user_id";
        case certificate_error::weak_algorithm:
            return "weak_algorithm";
        case certificate_error::sha1_self_signature:
            return "sha1_self_signature";
        case certificate_error::bad_self_signature:
            return "bad_self_signature";
        case certificate_error::revoked:
            return "revoked";
        case certificate_error::expired:
            return "expired";
        case certificate_error::no_signing_key:
            return "no_signing_key";
    }
    return "unknown";
}

std::string_view message(certificate_error e) noexcept {
    switch (e) {
        case certificate_error::empty:
            return "No certificate was submitted.";
        case certificate_error::too_large:
            return "The certificate is too large (too many bytes, user IDs, subkeys or "
                   "signatures).";
        case certificate_error::not_openpgp:
            return "This is not an OpenPGP certificate, or it is damaged or cut short.";
        case certificate_error::no_certificate:
            return "This is OpenPGP data, but not a public key certificate.";
        case certificate_error::secret_key_material:
            return "This contains a private key. Submit only your public certificate, and "
                   "consider the private key exposed.";
        case certificate_error::several_certificates:
            return "This contains more than one certificate. Submit exactly one.";
        case certificate_error::subkey_only:
            return "This contains a subkey without its primary key.";
        case certificate_error::unsupported:
            return "The certificate uses a key version or algorithm the server cannot check.";
        case certificate_error::no_user_id:
            return "The certificate has no valid user ID (name and email).";
        case certificate_error::weak_algorithm:
            return "The certificate uses a weak algorithm (RSA shorter than 2048 bits, DSA or "
                   "ElGamal).";
        case certificate_error::sha1_self_signature:
            return "A self-signature of the certificate uses the broken SHA-1 hash.";
        case certificate_error::bad_self_signature:
            return "A self-signature or subkey binding of the certificate does not verify.";
        case certificate_error::revoked:
            return "The certificate has been revoked.";
        case certificate_error::expired:
            return "The certificate has expired.";
        case certificate_error::no_signing_key:
            return "The certificate has no key that can sign now.";
    }
    return "Unknown certificate error.";
}

std::string_view code(signature_status s) noexcept {
    switch (s) {
        case signature_status::verified:
            return "verified";
        case signature_status::issuer_unknown:
            return "issuer_unknown";
        case signature_status::invalid:
            return "invalid";
        case signature_status::expired:
            return "expired";
    }
    return "unknown";
}

// --- known_certificates --------------------------------------------------------------------

void known_certificates::add(const certificate_report& report) {
    known_certificate entry{report.key_id, {report.fingerprint}, report.armored};
    for (const auto& sub : report.subkeys) {
        entry.fingerprints.push_back(sub.fingerprint);
    }
    std::unique_lock lock(mutex_);
    by_fingerprint_.insert_or_assign(report.fingerprint, std::move(entry));
}

void known_certificates::remove(std::string_view fingerprint) {
    std::unique_lock lock(mutex_);
    if (auto it = by_fingerprint_.find(fingerprint); it != by_fingerprint_.end()) {
        by_fingerprint_.erase(it);
    }
}

std::size_t known_certificates::size() const {
    std::shared_lock lock(mutex_);
    return by_fingerprint_.size();
}

std::vector<known_certificate> known_certificates::find_by_key_id(std::string_view key_id) const {
    std::vector<known_certificate> found;
    std::shared_lock lock(mutex_);
    // A v4 key ID is the fingerprint's low 64 bits; a linear scan is fine for the few
    // certifications a certificate carries and the users logged in at once.
    for (const auto& [fingerprint, entry] : by_fingerprint_) {
        if (entry.key_id == key_id) {
            found.push_back(entry);
        }
    }
    return found;
}

// --- verify_certificate ---------------------------------------------------------------------

namespace {

using namespace detail;

// Where a signature sits in the certificate.
struct signature_place {
    rnp_signature_handle_t handle;
    std::string on_user_id;  // the user ID's text, or a placeholder for a user attribute
    std::string on_subkey;   // subkey fingerprint
};

// Calls visit(place) for every signature on the primary key, its user IDs and its subkeys.
void for_each_signature(rnp_key_handle_t primary,
                        const std::function<void(const signature_place&)>& visit) {
    std::size_t count = 0;
    check(rnp_key_get_signature_count(primary, &count));
    for (std::size_t i = 0; i < count; ++i) {
        signature_handle sig;
        check(rnp_key_get_signature_at(primary, i, sig.out()));
        visit({sig.get(), {}, {}});
    }
    std::size_t uids = 0;
    check(rnp_key_get_uid_count(primary, &uids));
    for (std::size_t u = 0; u < uids; ++u) {
        uid_handle handle;
        check(rnp_key_get_uid_handle_at(primary, u, handle.out()));
        std::uint32_t type = 0;
        check(rnp_uid_get_type(handle.get(), &type));
        std::string text = "[user attribute]";
        if (type == RNP_USER_ID) {
            rnp_string s;
            check(rnp_key_get_uid_at(primary, u, s.out()));
            text = s.str();
        }
        std::size_t n = 0;
        check(rnp_uid_get_signature_count(handle.get(), &n));
        for (std::size_t i = 0; i < n; ++i) {
            signature_handle sig;
            check(rnp_uid_get_signature_at(handle.get(), i, sig.out()));
            visit({sig.get(), text, {}});
        }
    }
    std::size_t subs = 0;
    check(rnp_key_get_subkey_count(primary, &subs));
    for (std::size_t s = 0; s < subs; ++s) {
        key_handle sub;
        check(rnp_key_get_subkey_at(primary, s, sub.out()));
        const std::string fingerprint = key_text(sub.get(), rnp_key_get_fprint);
        std::size_t n = 0;
        check(rnp_key_get_signature_count(sub.get(), &n));
        for (std::size_t i = 0; i < n; ++i) {
            signature_handle sig;
            check(rnp_key_get_signature_at(sub.get(), i, sig.out()));
            visit({sig.get(), {}, fingerprint});
        }
    }
}

std::string signature_text(rnp_signature_handle_t sig,
                           rnp_result_t (*get)(rnp_signature_handle_t, char**)) {
    rnp_string s;
    // Optional fields (the issuer fingerprint subpacket) read as empty when absent.
    if (!succeeded(get(sig, s.out()))) {
        return {};
    }
    return s.str();
}

// rnp's names ("certification (positive)") turned into the words RFC 4880 §5.2.1 uses.
std::string signature_type_name(std::string_view rnp_type) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> names{{
        {"certification (generic)", "generic certification"},
        {"certification (persona)", "persona certification"},
        {"certification (casual)", "casual certification"},
        {"certification (positive)", "positive certification"},
        {"direct", "direct key signature"},
        {"binary", "binary document signature"},
        {"text", "text document signature"},
        {"third-party", "third-party confirmation"},
    }};
    for (const auto& [from, to] : names) {
        if (rnp_type == from) {
            return std::string(to);
        }
    }
    return std::string(rnp_type);  // "subkey binding", "key revocation", ...
}

// "Name (comment) <email>" split into its parts; RFC 4880 §5.11 only suggests that form.
void split_user_id(std::string_view user_id, std::string& name, std::string& email) {
    const auto trim = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return std::string(s);
    };
    const auto open = user_id.rfind('<');
    const auto close = user_id.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        email = trim(user_id.substr(open + 1, close - open - 1));
        name = trim(user_id.substr(0, open));
    } else if (user_id.find('@') != std::string_view::npos &&
               user_id.find(' ') == std::string_view::npos) {
        email = std::string(user_id);
    } else {
        name = trim(user_id);
    }
}

struct imported_key {
    std::string fingerprint;
    bool secret = false;
};

// Reads rnp_import_keys' JSON: {"keys":[{"public":"new","secret":"none","fingerprint":"…"}]}.
std::optional<std::vector<imported_key>> parse_import_results(std::string_view json) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) {
        return std::nullopt;
    }
    const auto* keys = doc.as_object().if_contains("keys");
    if (keys == nullptr || !keys->is_array()) {
        return std::nullopt;
    }
    std::vector<imported_key> out;
    for (const auto& k : keys->as_array()) {
        const auto* obj = k.if_object();
        if (obj == nullptr) {
            return std::nullopt;
        }
        const auto* fpr = obj->if_contains("fingerprint");
        const auto* secret = obj->if_contains("secret");
        if (fpr == nullptr || !fpr->is_string() || secret == nullptr || !secret->is_string()) {
            return std::nullopt;
        }
        out.push_back({std::string(fpr->as_string()), secret->as_string() != "none"});
    }
    return out;
}

class certificate_checker {
  public:
    // scanned_fingerprint: the primary key the scan checked (scanned_certificate::fingerprint).
    certificate_checker(std::int64_t now, const pgp_limits& limits, const known_certificates* known,
                        std::string scanned_fingerprint)
        : now_(now),
          limits_(limits),
          known_(known),
          scanned_fingerprint_(std::move(scanned_fingerprint)) {}

    core::result<certificate_report, certificate_error> run(std::string_view data);

  private:
    core::status<certificate_error> load(std::string_view data);
    core::status<certificate_error> check_primary();
    void import_known_issuers();
    certificate_report build_report();

    std::int64_t now_;
    const pgp_limits& limits_;
    const known_certificates* known_;
    std::string scanned_fingerprint_;
    ffi_handle ffi_;
    key_handle primary_;
    key_facts primary_facts_;
    std::vector<key_facts> subkey_facts_;
    std::vector<std::string> bound_user_ids_;  // good self-certification and not revoked
    std::string primary_user_id_;
};

core::result<certificate_report, certificate_error> certificate_checker::run(
    std::string_view data) {
    if (auto loaded = load(data); !loaded) {
        return core::fail(loaded.error());
    }
    if (auto checked = check_primary(); !checked) {
        return core::fail(checked.error());
    }
    return build_report();
}

core::status<certificate_error> certificate_checker::load(std::string_view data) {
    auto made = make_ffi(now_);
    if (!made) {
        throw rnp_failure{};
    }
    ffi_ = std::move(*made);
    auto in = memory_input(as_bytes(data));
    if (!in) {
        throw rnp_failure{};
    }
    {
        rnp_string contents;  // peeks only: the input is still read from its start below
        if (!succeeded(rnp_guess_contents(in->get(), contents.out()))) {
            return core::fail(certificate_error::not_openpgp);
        }
        const auto kind = contents.view();
        if (kind == "secret key") {
            return core::fail(certificate_error::secret_key_material);
        }
        if (kind == "signature" || kind == "message") {
            return core::fail(certificate_error::no_certificate);
        }
        if (kind != "public key") {
            return core::fail(certificate_error::not_openpgp);
        }
    }
    // Secret keys are imported too, into this call's keyring only, so that a private key anywhere
    // in the input is seen and refused rather than silently reduced to its public part.
    constexpr std::uint32_t flags =
        RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS | RNP_LOAD_SAVE_SINGLE;
    rnp_string results;
    const rnp_result_t first = rnp_import_keys(ffi_.get(), in->get(), flags, results.out());
    if (first == RNP_ERROR_EOF) {
        return core::fail(certificate_error::no_certificate);
    }
    if (!succeeded(first)) {
        return core::fail(certificate_error::not_openpgp);
    }
    const auto imported = parse_import_results(results.view());
    if (!imported) {
        throw rnp_failure{};
    }
    if (imported->empty()) {
        return core::fail(certificate_error::no_certificate);
    }
    if (std::any_of(imported->begin(), imported->end(), [](const auto& k) { return k.secret; })) {
        return core::fail(certificate_error::secret_key_material);
    }
    // RNP_LOAD_SAVE_SINGLE read one primary key with its subkeys; anything after it but the end
    // of the input means more than one certificate (or trailing garbage).
    const rnp_result_t next = rnp_import_keys(ffi_.get(), in->get(), flags, nullptr);
    if (succeeded(next)) {
        return core::fail(certificate_error::several_certificates);
    }
    if (next != RNP_ERROR_EOF) {
        return core::fail(certificate_error::not_openpgp);
    }
    for (const auto& k : *imported) {
        key_handle handle;
        if (!succeeded(
                rnp_locate_key(ffi_.get(), "fingerprint", k.fingerprint.c_str(), handle.out())) ||
            !handle) {
            throw rnp_failure{};
        }
        if (key_flag(handle.get(), rnp_key_is_primary)) {
            primary_ = std::move(handle);
            return core::ok;
        }
    }
    return core::fail(certificate_error::subkey_only);
}

core::status<certificate_error> certificate_checker::check_primary() {
    rnp_key_handle_t primary = primary_.get();
    primary_facts_ = read_key_facts(primary, now_);
    if (primary_facts_.fingerprint.size() != 40) {
        return core::fail(certificate_error::unsupported);  // v3 (MD5 fingerprints) or newer
    }
    // librnp must have read the key the scan checked, and nothing else: were the two to read the
    // input differently (armor hidden in the packets, docs/certificates.md "Before librnp"), the
    // scan's limits would have held for a key that is not this one.
    if (primary_facts_.fingerprint != scanned_fingerprint_) {
        return core::fail(certificate_error::not_openpgp);
    }

    // Sizes first: everything after this walks every user ID, subkey and signature.
    std::size_t uid_count = 0;
    std::size_t subkey_count = 0;
    check(rnp_key_get_uid_count(primary, &uid_count));
    check(rnp_key_get_subkey_count(primary, &subkey_count));
    std::size_t signature_count = 0;
    for_each_signature(primary, [&](const signature_place&) { ++signature_count; });
    if (uid_count > limits_.max_user_ids || subkey_count > limits_.max_subkeys ||
        signature_count > limits_.max_signatures) {
        return core::fail(certificate_error::too_large);
    }
    if (uid_count == 0) {
        return core::fail(certificate_error::no_user_id);
    }

    for (std::size_t i = 0; i < subkey_count; ++i) {
        key_handle sub;
        check(rnp_key_get_subkey_at(primary, i, sub.out()));
        subkey_facts_.push_back(read_key_facts(sub.get(), now_));
    }
    // The scan's cost rule once more, on the keys as librnp holds them (check 9).
    if (exceeds_rsa_cost_limits(primary_facts_, limits_.max_rsa_bits) ||
        std::any_of(subkey_facts_.begin(), subkey_facts_.end(), [&](const key_facts& sub) {
            return exceeds_rsa_cost_limits(sub, limits_.max_rsa_bits);
        })) {
        return core::fail(certificate_error::unsupported);
    }
    // The primary key always counts; a subkey that can no longer be used (revoked, expired)
    // does not make the certificate weak.
    bool weak = is_weak(primary_facts_);
    bool unsupported_alg = !is_supported(primary_facts_);
    for (const auto& sub : subkey_facts_) {
        if (sub.can_be_used_now()) {
            weak = weak || is_weak(sub);
            unsupported_alg = unsupported_alg || !is_supported(sub);
        }
    }
    if (weak) {
        return core::fail(certificate_error::weak_algorithm);
    }
    if (unsupported_alg) {
        return core::fail(certificate_error::unsupported);
    }

    // Self-signatures: the hash first (rnp itself marks recent SHA-1 key signatures invalid, and
    // the user should learn why), then each one's own verification.
    bool sha1 = false;
    bool broken = false;
    for_each_signature(primary, [&](const signature_place& place) {
        if (signature_text(place.handle, rnp_signature_get_keyid) != primary_facts_.key_id) {
            return;
        }
        if (is_weak_hash(signature_text(place.handle, rnp_signature_get_hash_alg))) {
            sha1 = true;
        }
        const rnp_result_t valid = rnp_signature_is_valid(place.handle, 0);
        if (valid != RNP_SUCCESS && valid != RNP_ERROR_SIGNATURE_EXPIRED) {
            broken = true;
        }
    });
    if (sha1) {
        return core::fail(certificate_error::sha1_self_signature);
    }
    if (broken) {
        return core::fail(certificate_error::bad_self_signature);
    }

    if (primary_facts_.revoked) {
        return core::fail(certificate_error::revoked);
    }
    if (primary_facts_.expired) {
        return core::fail(certificate_error::expired);
    }
    if (!primary_facts_.rnp_valid) {
        // Not revoked, not expired, no broken signature: then no self-signature binds it.
        return core::fail(certificate_error::bad_self_signature);
    }

    // User IDs shown to people: those the key holder certified and did not revoke.
    for (std::size_t u = 0; u < uid_count; ++u) {
        uid_handle handle;
        check(rnp_key_get_uid_handle_at(primary, u, handle.out()));
        std::uint32_t type = 0;
        check(rnp_uid_get_type(handle.get(), &type));
        if (type != RNP_USER_ID || uid_flag(handle.get(), rnp_uid_is_revoked)) {
            continue;
        }
        bool certified = false;
        std::size_t n = 0;
        check(rnp_uid_get_signature_count(handle.get(), &n));
        for (std::size_t i = 0; i < n && !certified; ++i) {
            signature_handle sig;
            check(rnp_uid_get_signature_at(handle.get(), i, sig.out()));
            certified =
                signature_text(sig.get(), rnp_signature_get_keyid) == primary_facts_.key_id &&
                rnp_signature_is_valid(sig.get(), 0) == RNP_SUCCESS;
        }
        if (!certified) {
            continue;
        }
        rnp_string text;
        check(rnp_key_get_uid_at(primary, u, text.out()));
        bound_user_ids_.push_back(text.str());
        if (primary_user_id_.empty() && uid_flag(handle.get(), rnp_uid_is_primary)) {
            primary_user_id_ = text.str();
        }
    }
    if (bound_user_ids_.empty()) {
        return core::fail(certificate_error::no_user_id);
    }
    if (primary_user_id_.empty()) {
        primary_user_id_ = bound_user_ids_.front();
    }

    const bool can_sign = primary_facts_.can_sign_now() ||
                          std::any_of(subkey_facts_.begin(), subkey_facts_.end(),
                                      [](const key_facts& sub) { return sub.can_sign_now(); });
    if (!can_sign) {
        return core::fail(certificate_error::no_signing_key);
    }
    return core::ok;
}

// Puts the certificates of known issuers into this keyring so that rnp can check their
// certifications. A known certificate sharing a key with the one being checked is skipped: rnp
// would merge the two, and the report must describe only what was submitted.
void certificate_checker::import_known_issuers() {
    if (known_ == nullptr) {
        return;
    }
    std::set<std::string> own{primary_facts_.fingerprint};
    for (const auto& sub : subkey_facts_) {
        own.insert(sub.fingerprint);
    }
    std::set<std::string> wanted;
    std::set<std::string> wanted_fingerprints;
    for_each_signature(primary_.get(), [&](const signature_place& place) {
        const auto issuer = signature_text(place.handle, rnp_signature_get_keyid);
        if (!issuer.empty() && issuer != primary_facts_.key_id) {
            wanted.insert(issuer);
            wanted_fingerprints.insert(signature_text(place.handle, rnp_signature_get_key_fprint));
        }
    });
    std::set<std::string> imported;
    for (const auto& key_id : wanted) {
        for (const auto& cert : known_->find_by_key_id(key_id)) {
            const auto& fingerprint = cert.fingerprints.front();
            if (imported.size() >= limits_.max_signatures || imported.count(fingerprint) != 0 ||
                std::any_of(cert.fingerprints.begin(), cert.fingerprints.end(),
                            [&](const auto& f) { return own.count(f) != 0; })) {
                continue;
            }
            auto in = memory_input(as_bytes(cert.armored));
            if (!in) {
                throw rnp_failure{};
            }
            // An accepted certificate; if it no longer loads its certifications stay unknown.
            if (succeeded(rnp_import_keys(ffi_.get(), in->get(),
                                          RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SINGLE,
                                          nullptr))) {
                imported.insert(fingerprint);
            }
        }
    }
}

certificate_report certificate_checker::build_report() {
    certificate_report report;
    split_user_id(primary_user_id_, report.name, report.email);
    report.user_ids = bound_user_ids_;
    report.fingerprint = primary_facts_.fingerprint;
    report.key_id = primary_facts_.key_id;
    report.algorithm = primary_facts_.algorithm;
    report.bits = primary_facts_.bits;
    report.curve = primary_facts_.curve;
    report.created = primary_facts_.created;
    report.expires = primary_facts_.expires;
    report.usage = primary_facts_.usage;
    for (const auto& sub : subkey_facts_) {
        report.subkeys.push_back({sub.fingerprint, sub.key_id, sub.algorithm, sub.bits, sub.curve,
                                  sub.created, sub.expires, sub.usage, sub.revoked,
                                  sub.can_be_used_now()});
    }

    // The armored copy comes from the keyring before any known certificate joins it.
    {
        output_handle out;
        check(rnp_output_to_memory(out.out(), 0));
        check(rnp_key_export(
            primary_.get(), out.get(),
            RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS));
        std::uint8_t* buf = nullptr;
        std::size_t len = 0;
        check(rnp_output_memory_get_buf(out.get(), &buf, &len, false));
        report.armored.assign(reinterpret_cast<const char*>(buf), len);
    }

    import_known_issuers();
    for_each_signature(primary_.get(), [&](const signature_place& place) {
        signature_info info;
        info.issuer_key_id = signature_text(place.handle, rnp_signature_get_keyid);
        info.issuer_fingerprint = signature_text(place.handle, rnp_signature_get_key_fprint);
        info.type = signature_type_name(signature_text(place.handle, rnp_signature_get_type));
        info.hash_algorithm = signature_text(place.handle, rnp_signature_get_hash_alg);
        std::uint32_t created = 0;
        check(rnp_signature_get_creation(place.handle, &created));
        info.created = created;
        info.self_signature = info.issuer_key_id == primary_facts_.key_id;
        switch (rnp_signature_is_valid(place.handle, 0)) {
            case RNP_SUCCESS:
                info.status = signature_status::verified;
                break;
            case RNP_ERROR_SIGNATURE_EXPIRED:
                info.status = signature_status::expired;
                break;
            case RNP_ERROR_KEY_NOT_FOUND:
                info.status = signature_status::issuer_unknown;
                break;
            default:
                info.status = signature_status::invalid;
                break;
        }
        if (info.status == signature_status::verified && is_weak_hash(info.hash_algorithm)) {
            info.status = signature_status::invalid;  // a SHA-1 certification proves nothing
        }
        info.on_user_id = place.on_user_id;
        info.on_subkey = place.on_subkey;
        report.signatures.push_back(std::move(info));
    });
    return report;
}

}  // namespace

core::result<certificate_report, certificate_error> verify_certificate(
    std::string_view data, std::int64_t now_unix, const pgp_limits& limits,
    const known_certificates* known) {
    if (data.empty()) {
        return core::fail(certificate_error::empty);
    }
    if (data.size() > limits.max_certificate_bytes) {
        return core::fail(certificate_error::too_large);
    }
    // librnp sees only the bytes the scan has read: the same decoded packets, so that the armor
    // cannot be read one way here and another way there. librnp would still take an armor header
    // line inside them for armor: the scan refuses that text anywhere in the packets.
    auto decoded = decode_certificate_input(data);
    if (!decoded) {
        return core::fail(decoded.error());
    }
    auto scanned = scan_certificate_packets(*decoded, limits);
    if (!scanned) {
        return core::fail(scanned.error());
    }
    try {
        certificate_checker checker(now_unix, limits, known, std::move(scanned->fingerprint));
        return checker.run(
            std::string_view(reinterpret_cast<const char*>(decoded->data()), decoded->size()));
    } catch (const rnp_failure&) {
        // rnp refused to describe a key it had just imported: something it cannot handle.
        return core::fail(certificate_error::unsupported);
    }
}

}  // namespace secms::pgp

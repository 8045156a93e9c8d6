#include "server/pgp/key_facts.hpp"

#include <array>
#include <string_view>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "server/pgp/rnp_handles.hpp"

namespace secms::pgp::detail {

std::string key_text(rnp_key_handle_t key, rnp_result_t (*get)(rnp_key_handle_t, char**)) {
    rnp_string s;
    check(get(key, s.out()));
    return s.str();
}

bool key_flag(rnp_key_handle_t key, rnp_result_t (*get)(rnp_key_handle_t, bool*)) {
    bool value = false;
    check(get(key, &value));
    return value;
}

bool uid_flag(rnp_uid_handle_t uid, rnp_result_t (*get)(rnp_uid_handle_t, bool*)) {
    bool value = false;
    check(get(uid, &value));
    return value;
}

namespace {

std::string display_algorithm(std::string_view rnp_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> names{{
        {RNP_ALGNAME_RSA, "RSA"},
        {RNP_ALGNAME_EDDSA, "EdDSA"},
        {RNP_ALGNAME_ECDSA, "ECDSA"},
        {RNP_ALGNAME_ECDH, "ECDH"},
        {RNP_ALGNAME_DSA, "DSA"},
        {RNP_ALGNAME_ELGAMAL, "ElGamal"},
        {RNP_ALGNAME_SM2, "SM2"},
    }};
    for (const auto& [from, to] : names) {
        if (rnp_name == from) {
            return std::string(to);
        }
    }
    return std::string(rnp_name);
}

bool is_elliptic(std::string_view rnp_name) {
    return rnp_name == RNP_ALGNAME_EDDSA || rnp_name == RNP_ALGNAME_ECDSA ||
           rnp_name == RNP_ALGNAME_ECDH || rnp_name == RNP_ALGNAME_SM2;
}

// The RSA public exponent from rnp_key_to_json: {"public key":{"mpis":{"e":"010001",...}}},
// big-endian hex. Sets bits and parity; throws if rnp does not describe it.
void read_rsa_exponent(rnp_key_handle_t key, key_facts& facts) {
    rnp_string json;
    check(rnp_key_to_json(key, RNP_JSON_PUBLIC_MPIS, json.out()));
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(json.view(), ec);
    const auto* e = ec ? nullptr : doc.find_pointer("/public key/mpis/e", ec);
    if (e == nullptr || !e->is_string()) {
        throw rnp_failure{};
    }
    std::string_view hex = e->as_string();
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    while (!hex.empty() && hex.front() == '0') {
        hex.remove_prefix(1);
    }
    if (hex.empty()) {
        return;  // e = 0: zero bits, even
    }
    const int top = nibble(hex.front());
    const int last = nibble(hex.back());
    if (top < 0 || last < 0) {
        throw rnp_failure{};
    }
    std::uint32_t bits = static_cast<std::uint32_t>(hex.size() - 1) * 4;
    for (int t = top; t != 0; t >>= 1) {
        ++bits;
    }
    facts.rsa_exponent_bits = bits;
    facts.rsa_exponent_odd = (last & 1) != 0;
}

}  // namespace

key_facts read_key_facts(rnp_key_handle_t key, std::int64_t now_unix) {
    key_facts facts;
    facts.fingerprint = key_text(key, rnp_key_get_fprint);
    facts.key_id = key_text(key, rnp_key_get_keyid);
    facts.rnp_algorithm = key_text(key, rnp_key_get_alg);
    facts.algorithm = display_algorithm(facts.rnp_algorithm);
    check(rnp_key_get_bits(key, &facts.bits));
    if (is_elliptic(facts.rnp_algorithm)) {
        facts.curve = key_text(key, rnp_key_get_curve);
    }
    if (facts.rnp_algorithm == RNP_ALGNAME_RSA) {
        read_rsa_exponent(key, facts);
    }
    std::uint32_t created = 0;
    std::uint32_t lifetime = 0;
    check(rnp_key_get_creation(key, &created));
    check(rnp_key_get_expiration(key, &lifetime));
    facts.created = created;
    // RFC 4880 §5.2.3.6: key expiration is seconds after creation, 0 = never.
    facts.expires = lifetime == 0 ? 0 : facts.created + lifetime;

    for (const char* usage : {"sign", "certify", "encrypt", "authenticate"}) {
        bool allowed = false;
        check(rnp_key_allows_usage(key, usage, &allowed));
        if (allowed) {
            facts.usage.emplace_back(usage);
            facts.can_sign = facts.can_sign || std::string_view(usage) == "sign";
        }
    }
    facts.revoked = key_flag(key, rnp_key_is_revoked);
    // rnp judged expiry at the keyring's time (rnp_set_timestamp); the sum is checked too so that
    // the verdict does not depend on which self-signature rnp picked.
    facts.expired =
        key_flag(key, rnp_key_is_expired) || (facts.expires != 0 && facts.expires <= now_unix);
    bool valid = false;
    const rnp_result_t r = rnp_key_is_valid(key, &valid);
    // RNP_ERROR_VERIFICATION_FAILED: rnp could not validate it at all, i.e. not valid.
    if (r != RNP_SUCCESS && r != RNP_ERROR_VERIFICATION_FAILED) {
        throw rnp_failure{};
    }
    facts.rnp_valid = r == RNP_SUCCESS && valid;
    return facts;
}

bool is_weak(const key_facts& key) noexcept {
    const std::string_view alg = key.rnp_algorithm;
    return (alg == RNP_ALGNAME_RSA && key.bits < 2048) || alg == RNP_ALGNAME_DSA ||
           alg == RNP_ALGNAME_ELGAMAL;
}

bool is_supported(const key_facts& key) noexcept {
    const std::string_view alg = key.rnp_algorithm;
    return alg == RNP_ALGNAME_RSA || alg == RNP_ALGNAME_EDDSA || alg == RNP_ALGNAME_ECDSA ||
           alg == RNP_ALGNAME_ECDH;
}

bool exceeds_rsa_cost_limits(const key_facts& key, std::uint32_t max_rsa_bits) noexcept {
    if (key.rnp_algorithm != RNP_ALGNAME_RSA) {
        return false;
    }
    return key.bits > max_rsa_bits || key.rsa_exponent_bits > 32 || key.rsa_exponent_bits < 2 ||
           !key.rsa_exponent_odd;
}

}  // namespace secms::pgp::detail

#include "server/auth/password_hasher.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <optional>
#include <vector>

namespace secms::auth {

namespace {

constexpr std::string_view scheme = "$secms-argon2id-hmac$v=19$";
constexpr std::size_t salt_bytes = crypto_pwhash_SALTBYTES;  // 16
constexpr std::size_t digest_bytes = 32;

struct parsed_hash {
    argon2_params params;
    std::array<std::uint8_t, salt_bytes> salt{};
    std::array<std::uint8_t, digest_bytes> mac{};
};

std::string base64(std::span<const std::uint8_t> data) {
    std::string out(
        sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

bool unbase64(std::string_view in, std::span<std::uint8_t> out) {
    std::size_t len = 0;
    return sodium_base642bin(out.data(), out.size(), in.data(), in.size(), nullptr, &len, nullptr,
                             sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
           len == out.size();
}

bool parse_uint(std::string_view s, std::uint32_t& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && ptr == s.data() + s.size();
}

// "$secms-argon2id-hmac$v=19$m=19456,t=2,p=1$SALT$MAC"
std::optional<parsed_hash> parse(std::string_view encoded) {
    if (!encoded.starts_with(scheme)) return std::nullopt;
    encoded.remove_prefix(scheme.size());
    std::vector<std::string_view> parts;
    while (true) {
        auto pos = encoded.find('$');
        parts.push_back(encoded.substr(0, pos));
        if (pos == std::string_view::npos) break;
        encoded.remove_prefix(pos + 1);
    }
    if (parts.size() != 3) return std::nullopt;
    parsed_hash out;
    std::string_view p = parts[0];
    if (!p.starts_with("m=")) return std::nullopt;
    auto comma = p.find(',');
    if (comma == std::string_view::npos ||
        !parse_uint(p.substr(2, comma - 2), out.params.memory_kib)) {
        return std::nullopt;
    }
    p.remove_prefix(comma + 1);
    if (!p.starts_with("t=") || !p.ends_with(",p=1")) return std::nullopt;
    if (!parse_uint(p.substr(2, p.size() - 2 - 4), out.params.passes)) return std::nullopt;
    // Refuse absurd parameters from a tampered row instead of allocating gigabytes.
    if (out.params.memory_kib > 4u * 1024 * 1024 || out.params.passes > 64 ||
        !meets_minimum(out.params)) {
        return std::nullopt;
    }
    if (!unbase64(parts[1], out.salt) || !unbase64(parts[2], out.mac)) return std::nullopt;
    return out;
}

// Argon2id(password, salt) then HMAC-SHA-256 in the token.
core::result<std::array<std::uint8_t, digest_bytes>, auth_error> peppered_digest(
    hsm::key_store& keys, const core::secret_string& password, std::span<const std::uint8_t> salt,
    const argon2_params& params, int pepper_version) {
    core::secure_bytes stretched(digest_bytes);
    std::string_view pw = password.reveal();
    if (crypto_pwhash(stretched.data(), stretched.size(), pw.data(), pw.size(), salt.data(),
                      params.passes, static_cast<std::size_t>(params.memory_kib) * 1024u,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return core::fail(auth_error::unavailable);  // out of memory
    }
    auto mac = keys.pepper_mac(pepper_version, stretched.view());
    if (!mac) return core::fail(auth_error::unavailable);
    return *mac;
}

}  // namespace

bool meets_minimum(const argon2_params& p) noexcept {
    return p.memory_kib >= 19u * 1024 && p.passes >= 2;
}

password_hasher::password_hasher(hsm::key_store& keys, argon2_params params)
    : keys_(keys), params_(params) {}

core::result<password_hash, auth_error> password_hasher::hash(
    const core::secret_string& password) const {
    std::array<std::uint8_t, salt_bytes> salt{};
    randombytes_buf(salt.data(), salt.size());
    int version = keys_.current_pepper_version();
    auto mac = peppered_digest(keys_, password, salt, params_, version);
    if (!mac) return core::fail(mac.error());
    std::string encoded(scheme);
    encoded += "m=" + std::to_string(params_.memory_kib) + ",t=" + std::to_string(params_.passes) +
               ",p=1$" + base64(salt) + "$" + base64(*mac);
    return password_hash{std::move(encoded), version};
}

core::result<bool, auth_error> password_hasher::verify(const core::secret_string& password,
                                                       std::string_view encoded,
                                                       int pepper_version) const {
    auto parsed = parse(encoded);
    if (!parsed) {
        burn_equivalent_time(password);
        return false;
    }
    auto mac = peppered_digest(keys_, password, parsed->salt, parsed->params, pepper_version);
    if (!mac) return core::fail(mac.error());
    return sodium_memcmp(mac->data(), parsed->mac.data(), digest_bytes) == 0;
}

void password_hasher::burn_equivalent_time(const core::secret_string& password) const {
    static constexpr std::array<std::uint8_t, salt_bytes> fixed_salt{};
    (void)peppered_digest(keys_, password, fixed_salt, params_, keys_.current_pepper_version());
}

bool password_hasher::needs_rehash(std::string_view encoded, int pepper_version) const {
    auto parsed = parse(encoded);
    return !parsed || pepper_version != keys_.current_pepper_version() ||
           parsed->params.memory_kib < params_.memory_kib || parsed->params.passes < params_.passes;
}

}  // namespace secms::auth

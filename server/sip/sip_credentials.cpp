#include "server/sip/sip_credentials.hpp"

#include <openssl/evp.h>

#include <array>

#include "server/core/host_syntax.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::sip {

std::string_view message(sip_error e) noexcept {
    switch (e) {
        case sip_error::invalid_secret:
            return "the SIP secret must be 64 lower-case hex characters";
        case sip_error::invalid_ttl:
            return "the SIP credential lifetime must be 60..86400 seconds (browser) and 1..3650 "
                   "days (phones)";
        case sip_error::invalid_domain:
            return "the SIP domain must be a domain name";
        case sip_error::invalid_websocket_url:
            return "the SIP WebSocket URL must be wss://host[:port] with no path other than /, no "
                   "user info, query or fragment";
        case sip_error::invalid_proxy:
            return "a SIP phone proxy must be host:port";
        case sip_error::invalid_limit:
            return "the SIP device limit must be 1..1000 and the rate limits positive";
        case sip_error::invalid_username:
            return "the account name cannot be a SIP user";
        case sip_error::invalid_device_id:
            return "a SIP device id must be 16 lower-case hex characters";
        case sip_error::crypto_failed:
            return "the SIP credential could not be computed";
    }
    return "the SIP credential could not be computed";
}

namespace {

constexpr std::size_t device_id_chars = 16;

bool lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Decodes one UTF-8 sequence at `text[i]` (RFC 3629: shortest form, no surrogates, at most
// U+10FFFF); advances `i`. nullopt for an invalid sequence.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        ++i;
        return b0;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return std::nullopt;
    }
    if (text.size() - i < len) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    i += len;
    return cp;
}

bool refused_in_label(char32_t cp) {
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||       // C0, DEL, C1 controls
           cp == 0x2028 || cp == 0x2029 ||                  // line and paragraph separators
           cp == 0x061c || cp == 0x200e || cp == 0x200f ||  // bidirectional marks
           (cp >= 0x202a && cp <= 0x202e) ||                // embeddings and overrides
           (cp >= 0x2066 && cp <= 0x2069);                  // isolates
}

core::result<credential, sip_error> make_credential(const sip_secret& secret,
                                                    std::string_view account_name,
                                                    std::string_view device_id,
                                                    std::int64_t expires_at) {
    auto user = sip_user_of(account_name);
    if (!user) return core::fail(sip_error::invalid_username);
    credential out;
    out.user = std::move(*user);
    out.expires_at = expires_at;
    out.auth_username = std::to_string(expires_at) + ":" + out.user;
    if (!device_id.empty()) out.auth_username += ":" + std::string(device_id);
    auto password = sip_password(secret.reveal(), out.auth_username);
    if (!password) return core::fail(password.error());
    out.password = std::move(*password);
    return out;
}

}  // namespace

core::result<sip_secret, sip_error> parse_sip_secret(std::string_view text) {
    auto parsed = calls::turn_secret::parse(text);
    if (!parsed) return core::fail(sip_error::invalid_secret);
    return std::move(*parsed);
}

core::result<std::string, sip_error> sip_password(std::string_view key,
                                                  std::string_view auth_username) {
    std::array<unsigned char, 32> tag{};
    std::size_t tag_len = 0;
    // EVP_Q_mac: OpenSSL 3's one-shot MAC (no context to manage).
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                  reinterpret_cast<const unsigned char*>(auth_username.data()),
                  auth_username.size(), tag.data(), tag.size(), &tag_len) == nullptr ||
        tag_len != tag.size()) {
        core::wipe(tag.data(), tag.size());
        return core::fail(sip_error::crypto_failed);
    }
    // EVP_EncodeBlock writes 4 characters per 3 bytes, padded, and a NUL.
    std::array<unsigned char, 4 * ((32 + 2) / 3) + 1> text{};
    const int n = EVP_EncodeBlock(text.data(), tag.data(), static_cast<int>(tag.size()));
    core::wipe(tag.data(), tag.size());
    if (n <= 0) return core::fail(sip_error::crypto_failed);
    std::string out(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n));
    core::wipe(text.data(), text.size());
    return out;
}

std::optional<std::string> sip_user_of(std::string_view account_name) {
    if (account_name.size() < 3 || account_name.size() > 32) return std::nullopt;
    for (char c : account_name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return std::nullopt;
    }
    return lower_ascii(account_name);
}

bool valid_device_id(std::string_view id) noexcept {
    if (id.size() != device_id_chars) return false;
    for (char c : id) {
        if (!lower_hex(c)) return false;
    }
    return true;
}

std::string generate_device_id() {
    core::secure_bytes raw = core::random_secret(device_id_chars / 2);
    return core::to_hex(raw.view());
}

core::result<credential, sip_error> make_browser_credential(const sip_secret& secret,
                                                            std::string_view account_name,
                                                            std::int64_t now_unix,
                                                            std::chrono::seconds ttl) {
    if (ttl < min_browser_ttl || ttl > max_browser_ttl) return core::fail(sip_error::invalid_ttl);
    return make_credential(secret, account_name, {}, now_unix + ttl.count());
}

core::result<credential, sip_error> make_device_credential(const sip_secret& secret,
                                                           std::string_view account_name,
                                                           std::string_view device_id,
                                                           std::int64_t now_unix,
                                                           std::uint32_t ttl_days) {
    if (ttl_days < min_device_ttl_days || ttl_days > max_device_ttl_days)
        return core::fail(sip_error::invalid_ttl);
    if (!valid_device_id(device_id)) return core::fail(sip_error::invalid_device_id);
    return make_credential(secret, account_name, device_id,
                           now_unix + std::int64_t{ttl_days} * 86'400);
}

core::result<std::string, sip_error> websocket_origin(std::string_view url) {
    constexpr std::string_view scheme = "wss://";
    if (url.size() > 2048 || !url.starts_with(scheme))
        return core::fail(sip_error::invalid_websocket_url);
    std::string_view rest = url.substr(scheme.size());
    if (rest.ends_with('/')) rest.remove_suffix(1);
    // Whatever is left is the authority: no path, query, fragment or user info.
    if (rest.find_first_of("/?#@\\") != std::string_view::npos)
        return core::fail(sip_error::invalid_websocket_url);
    std::string_view host = rest;
    std::string_view port;
    const auto bracket = rest.rfind(']');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (!core::valid_port(port)) return core::fail(sip_error::invalid_websocket_url);
    }
    if (!core::valid_host(host)) return core::fail(sip_error::invalid_websocket_url);
    std::string origin = std::string(scheme) + lower_ascii(host);
    if (!port.empty()) origin += ":" + std::string(port);
    return origin;
}

bool valid_host_port(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = text.substr(0, colon);
    if (!host.starts_with('[') && host.find(':') != std::string_view::npos) return false;
    return core::valid_port(text.substr(colon + 1)) && core::valid_host(host);
}

bool valid_domain(std::string_view domain) {
    return !domain.starts_with('[') && core::valid_host_name(domain) && !domain.ends_with('.') &&
           !domain.ends_with('-');
}

std::optional<std::string> normalise_label(std::string_view label) {
    while (!label.empty() && label.front() == ' ') label.remove_prefix(1);
    while (!label.empty() && label.back() == ' ') label.remove_suffix(1);
    if (label.empty() || label.size() > 4 * max_label_code_points) return std::nullopt;
    std::size_t count = 0;
    for (std::size_t i = 0; i < label.size();) {
        auto cp = next_code_point(label, i);
        if (!cp || refused_in_label(*cp)) return std::nullopt;
        if (++count > max_label_code_points) return std::nullopt;
    }
    return std::string(label);
}

}  // namespace secms::sip

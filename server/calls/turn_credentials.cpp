#include "server/calls/turn_credentials.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <boost/json/array.hpp>

#include <array>
#include <memory>
#include <ostream>

#include "server/core/host_syntax.hpp"

namespace secms::calls {

std::string_view message(turn_error e) noexcept {
    switch (e) {
        case turn_error::invalid_secret:
            return "the TURN secret must be 64 lower-case hex characters";
        case turn_error::invalid_url:
            return "a TURN/STUN URL must be turn:, turns:, stun: or stuns: with a host and a port "
                   "(and at most ?transport=udp or tcp on turn URLs)";
        case turn_error::invalid_ttl:
            return "the TURN credential lifetime must be between 60 and 172800 seconds";
        case turn_error::crypto_failed:
            return "the TURN credential could not be computed";
    }
    return "the TURN credential could not be computed";
}

namespace {

constexpr std::size_t secret_hex_chars = 64;

bool lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

struct evp_mac_free {
    void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct evp_mac_ctx_free {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

}  // namespace

core::result<turn_secret, turn_error> turn_secret::parse(std::string_view text) {
    if (text.size() != secret_hex_chars) return core::fail(turn_error::invalid_secret);
    for (char c : text) {
        if (!lower_hex(c)) return core::fail(turn_error::invalid_secret);
    }
    return turn_secret(core::secret_string(std::string(text)));
}

turn_secret turn_secret::generate() {
    core::secure_bytes raw = core::random_secret(secret_hex_chars / 2);
    return turn_secret(core::secret_string(core::to_hex(raw.view())));
}

std::ostream& operator<<(std::ostream& os, const turn_secret&) {
    return os << "[redacted]";
}

core::result<std::string, turn_error> turn_password(std::string_view key,
                                                    std::string_view username) {
    std::unique_ptr<EVP_MAC, evp_mac_free> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) return core::fail(turn_error::crypto_failed);
    std::unique_ptr<EVP_MAC_CTX, evp_mac_ctx_free> ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) return core::fail(turn_error::crypto_failed);
    char digest_name[] = "SHA1";
    const std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    std::array<unsigned char, 20> tag{};
    std::size_t tag_len = 0;
    if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     params.data()) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(username.data()),
                       username.size()) != 1 ||
        EVP_MAC_final(ctx.get(), tag.data(), &tag_len, tag.size()) != 1 || tag_len != tag.size()) {
        return core::fail(turn_error::crypto_failed);
    }
    // EVP_EncodeBlock writes 4 characters per 3 bytes, padded, and a NUL.
    std::array<unsigned char, 4 * ((20 + 2) / 3) + 1> text{};
    int n = EVP_EncodeBlock(text.data(), tag.data(), static_cast<int>(tag.size()));
    core::wipe(tag.data(), tag.size());
    if (n <= 0) return core::fail(turn_error::crypto_failed);
    return std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n));
}

core::result<turn_credential, turn_error> make_turn_credential(const turn_secret& secret,
                                                               std::int64_t userid,
                                                               std::int64_t now_unix,
                                                               std::chrono::seconds ttl) {
    if (ttl < min_credential_ttl || ttl > max_credential_ttl) {
        return core::fail(turn_error::invalid_ttl);
    }
    turn_credential out;
    out.expires_at = now_unix + ttl.count();
    out.username = std::to_string(out.expires_at) + ":" + std::to_string(userid);
    auto password = turn_password(secret.reveal(), out.username);
    if (!password) return core::fail(password.error());
    out.credential = std::move(*password);
    return out;
}

bool valid_ice_url(std::string_view url) {
    std::string_view rest;
    bool turn = false;
    for (std::string_view scheme : {"turn:", "turns:", "stun:", "stuns:"}) {
        if (url.starts_with(scheme)) {
            rest = url.substr(scheme.size());
            turn = scheme.starts_with("turn");
            break;
        }
    }
    if (rest.empty()) return false;
    // RFC 7065 §3.1: the only query a TURN URI may carry is the transport.
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        std::string_view query = rest.substr(q + 1);
        if (!turn || (query != "transport=udp" && query != "transport=tcp")) return false;
        rest = rest.substr(0, q);
    }
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = rest.substr(0, colon);
    if (!core::valid_port(rest.substr(colon + 1))) return false;
    return core::valid_host(host);
}

core::result<std::vector<std::string>, turn_error> parse_ice_urls(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.empty()) continue;
        if (!valid_ice_url(item)) return core::fail(turn_error::invalid_url);
        out.emplace_back(item);
    }
    return out;
}

core::result<turn_issuer, turn_error> turn_issuer::make(turn_settings settings, turn_secret secret,
                                                        const core::clock& clock) {
    if (settings.ttl < min_credential_ttl || settings.ttl > max_credential_ttl) {
        return core::fail(turn_error::invalid_ttl);
    }
    for (const auto& url : settings.urls) {
        if (!valid_ice_url(url)) return core::fail(turn_error::invalid_url);
    }
    return turn_issuer(std::move(settings), std::move(secret), clock);
}

core::result<boost::json::object, turn_error> turn_issuer::issue(std::int64_t userid) const {
    auto made = make_turn_credential(secret_, userid, clock_->unix_now(), settings_.ttl);
    if (!made) return core::fail(made.error());
    boost::json::array servers;
    if (!settings_.urls.empty()) {
        boost::json::array urls;
        for (const auto& url : settings_.urls) urls.emplace_back(url);
        boost::json::object server;
        server["urls"] = std::move(urls);
        server["username"] = made->username;
        server["credential"] = made->credential;
        servers.emplace_back(std::move(server));
    }
    boost::json::object out;
    out["iceServers"] = std::move(servers);
    out["iceTransportPolicy"] = settings_.force_relay ? "relay" : "all";
    out["ttl"] = settings_.ttl.count();
    out["expiresAt"] = made->expires_at;
    return out;
}

}  // namespace secms::calls

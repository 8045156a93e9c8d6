// SIP credentials for the VoIP tab and for users' own phones (docs/api.md "SIP"). Kamailio's
// auth_ephemeral module and this server share a secret; a credential is an authorisation username
// "<expiry unix s>:<user>" (browser) or "<expiry>:<user>:<device id>" (phone) with password
// base64(HMAC-SHA256(secret, username)). Kamailio checks it without asking us, refuses it after
// its expiry, and for a phone also checks the device's row in users.db, so deleting the row
// revokes the phone. No credential is stored anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/calls/turn_credentials.hpp"
#include "server/core/result.hpp"

namespace secms::sip {

enum class sip_error {
    invalid_secret,         // the secret is not 64 lower-case hex characters
    invalid_ttl,            // a credential lifetime is outside its range
    invalid_domain,         // sip_domain is not a domain name
    invalid_websocket_url,  // not wss://host[:port][/] without query, fragment or user info
    invalid_proxy,          // a phone proxy is not host:port
    invalid_limit,          // the device limit or the rate limit is out of range
    invalid_username,       // an account name outside [A-Za-z0-9._-]{3,32}
    invalid_device_id,      // not 16 lower-case hex characters
    crypto_failed,          // OpenSSL could not compute the HMAC
};

std::string_view message(sip_error e) noexcept;

// The SIP secret has the TURN secret's form and rules (64 lower-case hex characters, generated
// from libsodium randomness, used as the HMAC key as text, never printed): one type for both.
using sip_secret = calls::turn_secret;
core::result<sip_secret, sip_error> parse_sip_secret(std::string_view text);

// Lifetimes: a browser credential is renewed by the page at 2/3 of its life, so under a minute
// would mean constant renewals; a day bounds how long a leaked one stays useful. A phone's lasts
// until it is revoked or up to ten years.
inline constexpr std::chrono::seconds min_browser_ttl{60};
inline constexpr std::chrono::seconds max_browser_ttl{86'400};
inline constexpr std::uint32_t min_device_ttl_days = 1;
inline constexpr std::uint32_t max_device_ttl_days = 3650;

// base64(HMAC-SHA256(key, auth_username)), standard alphabet with padding (RFC 4648 §4): what
// auth_ephemeral computes with sha_algorithm 1.
core::result<std::string, sip_error> sip_password(std::string_view key,
                                                  std::string_view auth_username);

// The SIP user of an account: its name lower-cased (names are ASCII [A-Za-z0-9._-]{3,32} and
// unique case-insensitively). nullopt for anything else.
std::optional<std::string> sip_user_of(std::string_view account_name);

bool valid_device_id(std::string_view id) noexcept;
// 8 bytes of libsodium randomness as 16 lower-case hex characters.
std::string generate_device_id();

struct credential {
    std::string user;           // SIP user, e.g. "alice"
    std::string auth_username;  // "<expiry>:alice" or "<expiry>:alice:<device id>"
    std::string password;       // base64 HMAC-SHA256
    std::int64_t expires_at = 0;
};

core::result<credential, sip_error> make_browser_credential(const sip_secret& secret,
                                                            std::string_view account_name,
                                                            std::int64_t now_unix,
                                                            std::chrono::seconds ttl);
core::result<credential, sip_error> make_device_credential(const sip_secret& secret,
                                                           std::string_view account_name,
                                                           std::string_view device_id,
                                                           std::int64_t now_unix,
                                                           std::uint32_t ttl_days);

// The origin of the WebSocket URL SIP.js connects to ("wss://host[:port]"), for the page's
// connect-src: wss only, a host name, IPv4 or [IPv6] host, an optional port, no path other than
// "/", no user info, query or fragment. The host is lower-cased.
core::result<std::string, sip_error> websocket_origin(std::string_view url);

// "host:port" (host a DNS name, IPv4 address or [IPv6] literal; port 1..65535).
bool valid_host_port(std::string_view text);
bool valid_domain(std::string_view domain);

// A phone's label as the user typed it: ASCII spaces trimmed at both ends; then 1..64 code points
// of valid UTF-8 with no control characters (C0, DEL, C1), line or paragraph separators or
// bidirectional formatting characters (which could make one label read as another).
// nullopt when it does not qualify.
inline constexpr std::size_t max_label_code_points = 64;
std::optional<std::string> normalise_label(std::string_view label);

}  // namespace secms::sip

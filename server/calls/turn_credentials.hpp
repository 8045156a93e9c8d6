// TURN REST credentials (draft-uberti-behave-turn-rest-00 §2.2; coturn `use-auth-secret`): the
// server and the TURN server share a secret; a credential is username "<expiry unix s>:<userid>"
// with password base64(HMAC-SHA1(secret, username)), which the TURN server checks without asking
// us, and refuses once the expiry has passed. Nothing here sees call content.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/clock.hpp"
#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::calls {

enum class turn_error {
    invalid_secret,  // the secret is not 64 lower-case hex characters
    invalid_url,     // an ICE server URL is not turn:/turns:/stun:/stuns: with a host and a port
    invalid_ttl,     // the credential lifetime is outside 60..172800 s
    crypto_failed,   // OpenSSL could not compute the HMAC
};

std::string_view message(turn_error e) noexcept;

// Limits of the credential lifetime: under a minute a slow call set-up outlives its credential;
// over two days a leaked credential stays useful too long.
inline constexpr std::chrono::seconds min_credential_ttl{60};
inline constexpr std::chrono::seconds max_credential_ttl{172'800};

// The shared secret. Its text (64 lower-case hex characters) is coturn's `static-auth-secret`
// and is used as the HMAC key as it is, not hex-decoded, because that is what coturn does.
class turn_secret {
  public:
    static core::result<turn_secret, turn_error> parse(std::string_view text);
    // 32 bytes of libsodium randomness as 64 lower-case hex characters.
    static turn_secret generate();

    // The only way to read the secret; the name makes each use visible in review.
    std::string_view reveal() const noexcept { return text_.reveal(); }

  private:
    explicit turn_secret(core::secret_string text) : text_(std::move(text)) {}
    core::secret_string text_;
};

std::ostream& operator<<(std::ostream& os, const turn_secret& s);

// base64(HMAC-SHA1(key, username)), standard alphabet with padding (RFC 4648 §4).
core::result<std::string, turn_error> turn_password(std::string_view key,
                                                    std::string_view username);

struct turn_credential {
    std::string username;    // "<expiry>:<userid>"
    std::string credential;  // base64 HMAC-SHA1
    std::int64_t expires_at = 0;
};

core::result<turn_credential, turn_error> make_turn_credential(const turn_secret& secret,
                                                               std::int64_t userid,
                                                               std::int64_t now_unix,
                                                               std::chrono::seconds ttl);

// Splits a comma-separated list and checks each URL (RFC 7064 stun:/stuns:, RFC 7065
// turn:/turns: with an optional ?transport=udp|tcp), with an explicit port. Empty: no servers.
core::result<std::vector<std::string>, turn_error> parse_ice_urls(std::string_view list);
bool valid_ice_url(std::string_view url);

struct turn_settings {
    std::vector<std::string> urls;
    std::chrono::seconds ttl{43'200};
    bool force_relay = false;
};

// Mints credentials for logged-in users from the settings, the secret and a clock.
class turn_issuer {
  public:
    static core::result<turn_issuer, turn_error> make(turn_settings settings, turn_secret secret,
                                                      const core::clock& clock);

    // {"iceServers":[{"urls":[…],"username":…,"credential":…}],"iceTransportPolicy":"all"|"relay",
    //  "ttl":…,"expiresAt":…}; iceServers is empty when no URL is configured.
    core::result<boost::json::object, turn_error> issue(std::int64_t userid) const;

  private:
    turn_issuer(turn_settings settings, turn_secret secret, const core::clock& clock)
        : settings_(std::move(settings)), secret_(std::move(secret)), clock_(&clock) {}
    turn_settings settings_;
    turn_secret secret_;
    const core::clock* clock_;
};

}  // namespace secms::calls

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>
#include <string>

#include "server/calls/turn_credentials.hpp"
#include "server/core/clock.hpp"

namespace secms::calls {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view test_secret =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

turn_secret secret_of(std::string_view text) {
    auto s = turn_secret::parse(text);
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
}

TEST(TurnPassword, MatchesRfc2202HmacSha1) {
    // RFC 2202 §3 test case 2: key "Jefe", digest effcdf6ae5eb2fa2d27416d5f184df9c259a7c79,
    // whose base64 is 7/zfauXrL6LSdBbV8YTfnCWafHk=.
    auto p = turn_password("Jefe", "what do ya want for nothing?");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

TEST(TurnCredential, KnownAnswerFromTheOpenSslCommandLine) {
    // printf %s "1700043200:42" | openssl dgst -sha1 -hmac <test_secret> -binary | base64
    core::manual_clock clock;  // unix_now() = 1'700'000'000
    auto made = make_turn_credential(secret_of(test_secret), 42, clock.unix_now(), 43'200s);
    ASSERT_TRUE(made.has_value());
    EXPECT_EQ(made->username, "1700043200:42");
    EXPECT_EQ(made->credential, "RM/3b+uW4L13NPD7V4bhlKZ1P+w=");
    EXPECT_EQ(made->expires_at, 1'700'043'200);
}

TEST(TurnCredential, ExpiryIsNowPlusTtlAndFollowsTheClock) {
    core::manual_clock clock;
    auto secret = secret_of(test_secret);
    auto first = make_turn_credential(secret, 7, clock.unix_now(), 120s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->expires_at, clock.unix_now() + 120);
    // printf %s "1700000120:7" | openssl dgst -sha1 -hmac <test_secret> -binary | base64
    EXPECT_EQ(first->credential, "Ym9eiwHbVjJqniudFsyJgjx4fPo=");
    clock.advance(1h);
    auto later = make_turn_credential(secret, 7, clock.unix_now(), 120s);
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(later->expires_at, first->expires_at + 3600);
    EXPECT_EQ(later->username, std::to_string(later->expires_at) + ":7");
    EXPECT_NE(later->credential, first->credential);
}

TEST(TurnCredential, LifetimeOutsideTheRangeIsRefused) {
    auto secret = secret_of(test_secret);
    EXPECT_EQ(make_turn_credential(secret, 1, 0, 59s).error(), turn_error::invalid_ttl);
    EXPECT_EQ(make_turn_credential(secret, 1, 0, 172'801s).error(), turn_error::invalid_ttl);
    EXPECT_TRUE(make_turn_credential(secret, 1, 0, 60s).has_value());
    EXPECT_TRUE(make_turn_credential(secret, 1, 0, 172'800s).has_value());
}

TEST(TurnSecret, OnlySixtyFourLowerCaseHexCharacters) {
    EXPECT_TRUE(turn_secret::parse(test_secret).has_value());
    std::string upper(test_secret);
    upper[10] = 'A';
    EXPECT_FALSE(turn_secret::parse(upper).has_value());
    EXPECT_FALSE(turn_secret::parse(test_secret.substr(1)).has_value());
    EXPECT_FALSE(turn_secret::parse(std::string(test_secret) + "0").has_value());
    EXPECT_FALSE(turn_secret::parse(std::string(test_secret.substr(1)) + "\n").has_value());
    EXPECT_FALSE(turn_secret::parse("").has_value());
    std::string other(test_secret);
    other[0] = 'g';
    EXPECT_EQ(turn_secret::parse(other).error(), turn_error::invalid_secret);
}

TEST(TurnSecret, GeneratedSecretsAreWellFormedAndDiffer) {
    auto a = turn_secret::generate();
    auto b = turn_secret::generate();
    EXPECT_TRUE(turn_secret::parse(a.reveal()).has_value());
    EXPECT_NE(a.reveal(), b.reveal());
}

TEST(TurnSecret, PrintsRedacted) {
    auto s = secret_of(test_secret);
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "[redacted]");
    EXPECT_EQ(os.str().find("0001020304"), std::string::npos);
}

TEST(IceUrls, AcceptsTurnAndStunUrisWithHostAndPort) {
    for (const char* url :
         {"turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp",
          "turns:turn.example.org:5349?transport=tcp", "stun:stun.example.org:3478",
          "stuns:example.org:5349", "turn:[::1]:3478", "turn:[2001:db8::1]:3478?transport=udp"}) {
        EXPECT_TRUE(valid_ice_url(url)) << url;
    }
    for (const char* url :
         {"", "turn:", "turn:127.0.0.1", "turn::3478", "turn:127.0.0.1:0", "turn:127.0.0.1:65536",
          "turn:127.0.0.1:34x8", "http://127.0.0.1:3478", "turn://127.0.0.1:3478",
          "stun:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=sctp",
          "turn:127.0.0.1:3478?foo=bar", "turn:user@127.0.0.1:3478", "turn:[::1]",
          "turn:[zz::1]:3478", "turn:exa mple.org:3478", "TURN:127.0.0.1:3478"}) {
        EXPECT_FALSE(valid_ice_url(url)) << url;
    }
}

TEST(IceUrls, CommaSeparatedListEmptyMeansNone) {
    auto none = parse_ice_urls("");
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
    auto two = parse_ice_urls(" turn:127.0.0.1:3478?transport=udp , stun:127.0.0.1:3478,");
    ASSERT_TRUE(two.has_value());
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[0], "turn:127.0.0.1:3478?transport=udp");
    EXPECT_EQ((*two)[1], "stun:127.0.0.1:3478");
    EXPECT_EQ(parse_ice_urls("turn:127.0.0.1:3478,nonsense").error(), turn_error::invalid_url);
}

TEST(TurnIssuer, AnswersTheIceServerListAndPolicy) {
    core::manual_clock clock;
    turn_settings settings;
    settings.urls = {"turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"};
    settings.ttl = 43'200s;
    auto issuer = turn_issuer::make(settings, secret_of(test_secret), clock);
    ASSERT_TRUE(issuer.has_value());
    auto out = issuer->issue(42);
    ASSERT_TRUE(out.has_value());
    const auto& servers = out->at("iceServers").as_array();
    ASSERT_EQ(servers.size(), 1u);
    const auto& server = servers[0].as_object();
    EXPECT_EQ(server.at("urls").as_array().size(), 2u);
    EXPECT_EQ(server.at("urls").as_array()[1].as_string(), "turn:127.0.0.1:3478?transport=tcp");
    EXPECT_EQ(server.at("username").as_string(), "1700043200:42");
    EXPECT_EQ(server.at("credential").as_string(), "RM/3b+uW4L13NPD7V4bhlKZ1P+w=");
    EXPECT_EQ(out->at("iceTransportPolicy").as_string(), "all");
    EXPECT_EQ(out->at("ttl").as_int64(), 43'200);
    EXPECT_EQ(out->at("expiresAt").as_int64(), 1'700'043'200);
    EXPECT_EQ(out->size(), 4u);
    // The secret itself never appears in the answer.
    EXPECT_EQ(boost::json::serialize(*out).find(test_secret), std::string::npos);
}

TEST(TurnIssuer, ForcedRelayAndNoUrls) {
    core::manual_clock clock;
    turn_settings settings;
    settings.force_relay = true;
    settings.ttl = 120s;
    auto issuer = turn_issuer::make(settings, secret_of(test_secret), clock);
    ASSERT_TRUE(issuer.has_value());
    auto out = issuer->issue(1);
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(out->at("iceServers").as_array().empty());
    EXPECT_EQ(out->at("iceTransportPolicy").as_string(), "relay");
    EXPECT_EQ(out->at("expiresAt").as_int64(), clock.unix_now() + 120);
}

TEST(TurnIssuer, RefusesBadSettings) {
    core::manual_clock clock;
    turn_settings bad_ttl;
    bad_ttl.ttl = 30s;
    EXPECT_EQ(turn_issuer::make(bad_ttl, secret_of(test_secret), clock).error(),
              turn_error::invalid_ttl);
    turn_settings bad_url;
    bad_url.urls = {"turn:nowhere"};
    EXPECT_EQ(turn_issuer::make(bad_url, secret_of(test_secret), clock).error(),
              turn_error::invalid_url);
}

}  // namespace
}  // namespace secms::calls

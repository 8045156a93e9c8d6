#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "server/core/clock.hpp"
#include "server/http/router.hpp"
#include "server/sip/sip_credentials.hpp"
#include "server/sip/sip_routes.hpp"

namespace secms::sip {
namespace {

using namespace std::chrono_literals;
namespace beast_http = http::beast_http;
namespace json = boost::json;

constexpr std::string_view test_secret =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

sip_secret secret_of(std::string_view text) {
    auto s = parse_sip_secret(text);
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
}

TEST(SipPassword, MatchesRfc4231HmacSha256) {
    // RFC 4231 §4.3 test case 2: key "Jefe", HMAC-SHA256
    // 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843, in base64:
    auto p = sip_password("Jefe", "what do ya want for nothing?");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST(SipCredential, BrowserKnownAnswerFromTheOpenSslCommandLine) {
    // printf %s "1700003600:alice" | openssl dgst -sha256 -hmac <test_secret> -binary | base64
    core::manual_clock clock;  // unix_now() = 1'700'000'000
    auto made = make_browser_credential(secret_of(test_secret), "Alice", clock.unix_now(), 3600s);
    ASSERT_TRUE(made.has_value());
    EXPECT_EQ(made->user, "alice");
    EXPECT_EQ(made->auth_username, "1700003600:alice");
    EXPECT_EQ(made->password, "KY8gP2TdpFCDtKEoflcVjctbIWcMOiwxE63ySed9iVA=");
    EXPECT_EQ(made->expires_at, 1'700'003'600);
}

TEST(SipCredential, DeviceKnownAnswerFromTheOpenSslCommandLine) {
    // printf %s "1731536000:alice:0123456789abcdef" | openssl dgst -sha256 -hmac <test_secret>
    //   -binary | base64   (1731536000 = 1700000000 + 365 days)
    auto made = make_device_credential(secret_of(test_secret), "ALICE", "0123456789abcdef",
                                       1'700'000'000, 365);
    ASSERT_TRUE(made.has_value());
    EXPECT_EQ(made->auth_username, "1731536000:alice:0123456789abcdef");
    EXPECT_EQ(made->password, "mNSFtK4s/l0zf+k3YlfX1ZI1zT9dlNz/On/7Xsi+uiM=");
    EXPECT_EQ(made->expires_at, 1'731'536'000);
}

TEST(SipCredential, ExpiryIsNowPlusTtlAndLifetimesAreBounded) {
    auto secret = secret_of(test_secret);
    auto a = make_browser_credential(secret, "bob", 1000, 60s);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->expires_at, 1060);
    EXPECT_EQ(a->auth_username, "1060:bob");
    auto b = make_browser_credential(secret, "bob", 2000, 86'400s);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->expires_at, 2000 + 86'400);
    EXPECT_NE(a->password, b->password);
    EXPECT_EQ(make_browser_credential(secret, "bob", 0, 59s).error(), sip_error::invalid_ttl);
    EXPECT_EQ(make_browser_credential(secret, "bob", 0, 86'401s).error(), sip_error::invalid_ttl);
    EXPECT_EQ(make_device_credential(secret, "bob", "0123456789abcdef", 0, 0).error(),
              sip_error::invalid_ttl);
    EXPECT_EQ(make_device_credential(secret, "bob", "0123456789abcdef", 0, 3651).error(),
              sip_error::invalid_ttl);
    auto ten_years = make_device_credential(secret, "bob", "0123456789abcdef", 5, 3650);
    ASSERT_TRUE(ten_years);
    EXPECT_EQ(ten_years->expires_at, 5 + 3650 * 86'400LL);
}

TEST(SipCredential, FormatsAreChecked) {
    auto secret = secret_of(test_secret);
    for (const char* name :
         {"al", "a:b", "alice@x", "alice bob", "", "élise", "abcdefghijklmnopqrstuvwxyz0123456"}) {
        EXPECT_EQ(make_browser_credential(secret, name, 0, 3600s).error(),
                  sip_error::invalid_username)
            << name;
    }
    EXPECT_EQ(*sip_user_of("Jo.Q_x-1"), "jo.q_x-1");
    for (const char* id : {"0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0",
                           "0123456789abcdeg", ":123456789abcdef"}) {
        EXPECT_FALSE(valid_device_id(id)) << id;
        EXPECT_EQ(make_device_credential(secret, "bob", id, 0, 1).error(),
                  sip_error::invalid_device_id);
    }
    std::set<std::string> ids;
    for (int i = 0; i < 32; ++i) {
        std::string id = generate_device_id();
        EXPECT_TRUE(valid_device_id(id)) << id;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 32u);
    // A browser password is 32 bytes in padded base64: 44 characters ending in '='.
    auto made = make_browser_credential(secret, "bob", 0, 3600s);
    EXPECT_EQ(made->password.size(), 44u);
    EXPECT_EQ(made->password.back(), '=');
}

TEST(SipSecret, TheTurnSecretRulesAndNoPrinting) {
    EXPECT_TRUE(parse_sip_secret(test_secret));
    EXPECT_EQ(parse_sip_secret("00").error(), sip_error::invalid_secret);
    std::string upper(test_secret);
    upper[10] = 'A';
    EXPECT_EQ(parse_sip_secret(upper).error(), sip_error::invalid_secret);
    std::ostringstream os;
    os << secret_of(test_secret);
    EXPECT_EQ(os.str().find("0001"), std::string::npos);
}

TEST(SipWebSocketUrl, OnlyWssOriginsAreAccepted) {
    EXPECT_EQ(*websocket_origin("wss://localhost:7443"), "wss://localhost:7443");
    EXPECT_EQ(*websocket_origin("wss://SIP.Example.org/"), "wss://sip.example.org");
    EXPECT_EQ(*websocket_origin("wss://[::1]:7443"), "wss://[::1]:7443");
    EXPECT_EQ(*websocket_origin("wss://127.0.0.1:7443/"), "wss://127.0.0.1:7443");
    for (const char* url : {"ws://localhost:7443",
                            "https://localhost:7443",
                            "wss://",
                            "wss://:7443",
                            "wss://localhost:0",
                            "wss://localhost:65536",
                            "wss://localhost:74a3",
                            "wss://localhost:7443/ws",
                            "wss://localhost:7443?x=1",
                            "wss://localhost:7443#f",
                            "wss://user@localhost:7443",
                            "wss://local host",
                            "wss://localhost;x",
                            "wss://a,b",
                            "wss://localhost:7443//",
                            "WSS://localhost",
                            " wss://localhost",
                            "wss://[zz::1]",
                            "wss://.localhost",
                            "wss://local..host"}) {
        EXPECT_FALSE(websocket_origin(url)) << url;
    }
}

TEST(SipLabel, TrimmedOneToSixtyFourCodePointsWithoutControls) {
    EXPECT_EQ(*normalise_label("  Desk phone "), "Desk phone");
    EXPECT_EQ(*normalise_label("Téléphone du bureau ☎"), "Téléphone du bureau ☎");
    EXPECT_TRUE(normalise_label(std::string(64, 'x')));
    EXPECT_FALSE(normalise_label(std::string(65, 'x')));
    std::string sixty_four_e_acute;
    for (int i = 0; i < 64; ++i) sixty_four_e_acute += "é";  // 128 bytes, 64 code points
    EXPECT_TRUE(normalise_label(sixty_four_e_acute));
    EXPECT_FALSE(normalise_label(sixty_four_e_acute + "é"));
    for (std::string bad : {std::string(""), std::string("   "), std::string("a\tb"),
                            std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f"),
                            std::string("a\xc2\x85"),      // U+0085 (C1)
                            std::string("a\xe2\x80\xae"),  // U+202E right-to-left override
                            std::string("a\xe2\x81\xa6"),  // U+2066 isolate
                            std::string("a\xe2\x80\xa8"),  // U+2028 line separator
                            std::string("a\xff"), std::string("a\xc3"),
                            std::string("\xc0\xaf"),         // overlong '/'
                            std::string("\xed\xa0\x80")}) {  // a surrogate
        EXPECT_FALSE(normalise_label(bad)) << bad;
    }
}

TEST(SipSettings, BadOnesAreRefused) {
    sip_settings good;
    EXPECT_TRUE(check_settings(good));
    auto refused = [](auto change) {
        sip_settings s;
        change(s);
        auto r = check_settings(s);
        return r ? std::optional<sip_error>() : std::optional<sip_error>(r.error());
    };
    EXPECT_EQ(refused([](auto& s) { s.domain = "bad domain"; }), sip_error::invalid_domain);
    EXPECT_EQ(refused([](auto& s) { s.websocket_url = "ws://x:1"; }),
              sip_error::invalid_websocket_url);
    EXPECT_EQ(refused([](auto& s) { s.credential_ttl = 59s; }), sip_error::invalid_ttl);
    EXPECT_EQ(refused([](auto& s) { s.device_ttl_days = 0; }), sip_error::invalid_ttl);
    EXPECT_EQ(refused([](auto& s) { s.phone_proxy = "localhost"; }), sip_error::invalid_proxy);
    EXPECT_EQ(refused([](auto& s) { s.phone_tls_proxy = "x:0"; }), sip_error::invalid_proxy);
    EXPECT_FALSE(refused([](auto& s) { s.phone_tls_proxy = ""; }));
    EXPECT_EQ(refused([](auto& s) { s.max_devices_per_user = 0; }), sip_error::invalid_limit);
    EXPECT_EQ(refused([](auto& s) { s.per_user_burst = 0; }), sip_error::invalid_limit);
}

TEST(SipError, EveryErrorHasItsOwnMessage) {
    std::set<std::string_view> seen;
    for (auto e :
         {sip_error::invalid_secret, sip_error::invalid_ttl, sip_error::invalid_domain,
          sip_error::invalid_websocket_url, sip_error::invalid_proxy, sip_error::invalid_limit,
          sip_error::invalid_username, sip_error::invalid_device_id, sip_error::crypto_failed}) {
        EXPECT_TRUE(seen.insert(message(e)).second) << message(e);
    }
}

// The routes, driven through the real router with the in-memory stores.
class SipRoutesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        sip_settings s;
        s.max_devices_per_user = 2;
        s.per_user_burst = 4;
        s.per_user_per_minute = 0.001;  // no refill within a test
        auto made = sip_routes::make(s, secret_of(test_secret), *devices_, clock_);
        ASSERT_TRUE(made);
        routes_ = std::move(*made);
        ctx_.sip = routes_.get();
        alice_ = login("alice");
        bob_ = login("bob");
    }

    std::string login(const std::string& name) {
        const std::string body =
            R"({"username":")" + name + R"(","password":"correct horse battery"})";
        EXPECT_EQ(run(request(beast_http::verb::post, "/api/v1/accounts", body)).result_int(),
                  201u);
        auto res = run(request(beast_http::verb::post, "/api/v1/session", body));
        std::string cookie(res[beast_http::field::set_cookie]);
        return cookie.substr(0, cookie.find(';'));
    }

    http::response run(http::request req) {
        boost::asio::io_context io;
        http::response out;
        boost::asio::co_spawn(io, http::handle_request(std::move(req), {"127.0.0.1", true}, ctx_),
                              [&](std::exception_ptr e, http::response r) {
                                  if (e) std::rethrow_exception(e);
                                  out = std::move(r);
                              });
        io.run();
        return out;
    }

    static http::request request(beast_http::verb method, std::string target, std::string body,
                                 std::string cookie = {}) {
        http::request req{method, target, 11};
        req.set(beast_http::field::content_type, "application/json");
        req.set(beast_http::field::origin, "https://localhost:8443");
        if (!cookie.empty()) req.set(beast_http::field::cookie, cookie);
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    }

    static std::string error_code(const http::response& res) {
        return std::string(json::parse(res.body()).at("error").at("code").as_string());
    }

    http::response add_device(const std::string& cookie, std::string label = "Desk phone") {
        json::object body;
        body["label"] = label;
        return run(
            request(beast_http::verb::post, "/api/v1/sip/devices", json::serialize(body), cookie));
    }

    core::manual_clock clock_;
    std::unique_ptr<store::user_store> users_ = store::make_memory_store();
    std::unique_ptr<hsm::key_store> keys_ = hsm::make_memory_key_store();
    auth::password_hasher hasher_{*keys_, {}};
    auth::account_service accounts_{*users_, hasher_, clock_};
    auth::login_sessions sessions_{{}, clock_};
    auth::rate_limiter ip_{{100, 100, 1000}, clock_};
    auth::login_throttle account_{{3}, clock_};
    auth::rate_limiter register_{{100, 100, 1000}, clock_};
    core::metrics metrics_;
    http::static_files files_{std::filesystem::temp_directory_path()};
    boost::asio::thread_pool pool_{1};
    http::server_context ctx_{{"https://localhost:8443", {"https://localhost:8443"}, false},
                              accounts_,
                              sessions_,
                              {ip_, account_, register_},
                              metrics_,
                              files_,
                              pool_};
    std::unique_ptr<store::sip_device_store> devices_ = store::make_memory_sip_device_store();
    std::unique_ptr<sip_routes> routes_;
    std::string alice_, bob_;
};

TEST_F(SipRoutesTest, CredentialsOfTheLoggedInUser) {
    auto anonymous = run(request(beast_http::verb::get, "/api/v1/sip", ""));
    EXPECT_EQ(anonymous.result_int(), 401u);
    auto res = run(request(beast_http::verb::get, "/api/v1/sip", "", alice_));
    ASSERT_EQ(res.result_int(), 200u);
    auto v = json::parse(res.body()).as_object();
    EXPECT_EQ(v.at("aor").as_string(), "sip:alice@localhost");
    EXPECT_EQ(v.at("user").as_string(), "alice");
    EXPECT_EQ(v.at("domain").as_string(), "localhost");
    EXPECT_EQ(v.at("websocketUrl").as_string(), "wss://localhost:7443");
    EXPECT_EQ(v.at("authorizationUsername").as_string(), "1700003600:alice");
    EXPECT_EQ(v.at("password").as_string(), "KY8gP2TdpFCDtKEoflcVjctbIWcMOiwxE63ySed9iVA=");
    EXPECT_EQ(v.at("expiresAt").as_int64(), 1'700'003'600);
    EXPECT_EQ(v.at("ttl").as_int64(), 3600);
    auto post = run(request(beast_http::verb::post, "/api/v1/sip", "{}", alice_));
    EXPECT_EQ(post.result_int(), 405u);
    EXPECT_EQ(run(request(beast_http::verb::get, "/api/v1/sip/other", "", alice_)).result_int(),
              404u);
}

TEST_F(SipRoutesTest, DevicesAreCreatedListedWithoutPasswordAndRevoked) {
    auto created = add_device(alice_, "  Desk phone  ");
    ASSERT_EQ(created.result_int(), 201u);
    auto v = json::parse(created.body()).as_object();
    const std::string id(v.at("device").at("id").as_string());
    EXPECT_TRUE(valid_device_id(id));
    EXPECT_EQ(v.at("device").at("label").as_string(), "Desk phone");
    EXPECT_EQ(v.at("device").at("createdAt").as_int64(), 1'700'000'000);
    EXPECT_EQ(v.at("device").at("expiresAt").as_int64(), 1'731'536'000);
    const auto& c = v.at("credentials").as_object();
    EXPECT_EQ(c.at("username").as_string(), "1731536000:alice:" + id);
    EXPECT_EQ(c.at("password").as_string(), *sip_password(test_secret, "1731536000:alice:" + id));
    EXPECT_EQ(c.at("aor").as_string(), "sip:alice@localhost");
    EXPECT_EQ(json::serialize(c.at("proxies")),
              R"([{"transport":"udp","address":"localhost:5060"},)"
              R"({"transport":"tcp","address":"localhost:5060"},)"
              R"({"transport":"tls","address":"localhost:5061"}])");

    auto list = run(request(beast_http::verb::get, "/api/v1/sip/devices", "", alice_));
    ASSERT_EQ(list.result_int(), 200u);
    EXPECT_EQ(list.body().find("password"), std::string::npos);
    auto l = json::parse(list.body()).as_object();
    EXPECT_EQ(l.at("max").as_int64(), 2);
    ASSERT_EQ(l.at("devices").as_array().size(), 1u);
    EXPECT_EQ(l.at("devices").as_array()[0].at("id").as_string(), id);
    auto bobs = run(request(beast_http::verb::get, "/api/v1/sip/devices", "", bob_));
    EXPECT_TRUE(json::parse(bobs.body()).at("devices").as_array().empty());

    // Another user's device is not found, and stays.
    auto by_bob = run(request(beast_http::verb::delete_, "/api/v1/sip/devices/" + id, "", bob_));
    EXPECT_EQ(by_bob.result_int(), 404u);
    EXPECT_EQ(error_code(by_bob), "not_found");
    EXPECT_EQ(*devices_->count(1), 1u);
    auto revoked = run(request(beast_http::verb::delete_, "/api/v1/sip/devices/" + id, "", alice_));
    EXPECT_EQ(revoked.result_int(), 204u);
    EXPECT_EQ(*devices_->count(1), 0u);
    auto again = run(request(beast_http::verb::delete_, "/api/v1/sip/devices/" + id, "", alice_));
    EXPECT_EQ(again.result_int(), 404u);
    auto odd =
        run(request(beast_http::verb::delete_, "/api/v1/sip/devices/0123456789ABCDEF", "", alice_));
    EXPECT_EQ(odd.result_int(), 404u);
}

TEST_F(SipRoutesTest, LabelLimitAndRateLimit) {
    for (std::string bad : {std::string(""), std::string(65, 'x'), std::string("a\nb")}) {
        auto res = add_device(alice_, bad);
        EXPECT_EQ(res.result_int(), 400u);
        EXPECT_EQ(error_code(res), "invalid_label");
    }
    auto not_string =
        run(request(beast_http::verb::post, "/api/v1/sip/devices", R"({"label":7})", alice_));
    EXPECT_EQ(error_code(not_string), "invalid_label");
    // bob: two devices allowed, the third is refused and nothing is stored.
    EXPECT_EQ(add_device(bob_, "one").result_int(), 201u);
    EXPECT_EQ(add_device(bob_, "two").result_int(), 201u);
    auto third = add_device(bob_, "three");
    EXPECT_EQ(third.result_int(), 409u);
    EXPECT_EQ(error_code(third), "too_many_devices");
    EXPECT_EQ(*devices_->count(2), 2u);
    // bob's fourth call takes the last token; then 429 with Retry-After, for GET /sip too.
    EXPECT_EQ(add_device(bob_, "four").result_int(), 409u);
    auto limited = run(request(beast_http::verb::get, "/api/v1/sip", "", bob_));
    EXPECT_EQ(limited.result_int(), 429u);
    EXPECT_GE(std::stoi(std::string(limited[beast_http::field::retry_after])), 1);
    // Each user has a bucket of their own.
    const std::string carol = login("carol");
    EXPECT_EQ(run(request(beast_http::verb::get, "/api/v1/sip", "", carol)).result_int(), 200u);
    // Listing is not limited.
    EXPECT_EQ(run(request(beast_http::verb::get, "/api/v1/sip/devices", "", bob_)).result_int(),
              200u);
}

}  // namespace
}  // namespace secms::sip

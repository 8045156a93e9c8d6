#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "server/http/cookies.hpp"
#include "server/http/request_path.hpp"
#include "server/http/router.hpp"
#include "server/http/security_headers.hpp"
#include "server/http/static_files.hpp"

namespace secms::http {
namespace {

namespace fs = std::filesystem;

TEST(SecurityHeaders, OnlyTheWorkerScriptMayCompileWebAssembly) {
    EXPECT_TRUE(is_worker_script("/assets/worker-PNTTJ56U.js"));
    for (const char* target :
         {"/assets/app-PNTTJ56U.js", "/assets/worker-X.js?x=1", "/assets/worker-../app.js",
          "/assets/worker-a/b.js", "/assets/worker-%2e.js", "/x/assets/worker-A.js",
          "/assets/worker-.js", "/app.html", "/assets/worker-A.css"}) {
        EXPECT_FALSE(is_worker_script(target)) << target;
    }
    response worker{beast_http::status::ok, 11};
    apply_security_headers(worker);
    apply_worker_script_policy(worker, "/assets/worker-PNTTJ56U.js");
    EXPECT_EQ(worker["Content-Security-Policy"], worker_content_security_policy);
    response page{beast_http::status::ok, 11};
    apply_security_headers(page);
    apply_worker_script_policy(page, "/app.html");
    EXPECT_EQ(page["Content-Security-Policy"], content_security_policy);
    // The Worker's policy is the page policy with one source more in script-src.
    std::string expected(content_security_policy);
    const std::string from = "script-src 'self';";
    expected.replace(expected.find(from), from.size(), "script-src 'self' 'wasm-unsafe-eval';");
    EXPECT_EQ(std::string(worker_content_security_policy), expected);
}

TEST(SecurityHeaders, MailFramesHaveTheirOwnPolicy) {
    response frame{beast_http::status::ok, 11};
    apply_security_headers(frame);
    apply_mail_frame_policy(frame, "/mail-frame.html");
    EXPECT_EQ(frame["Content-Security-Policy"], mail_frame_content_security_policy);
    EXPECT_EQ(frame["X-Frame-Options"], "SAMEORIGIN");
    std::string csp(frame["Content-Security-Policy"]);
    EXPECT_NE(csp.find("img-src data: blob:;"), std::string::npos);
    EXPECT_EQ(csp.find("https:"), std::string::npos) << "no remote images by default";
    EXPECT_NE(csp.find("frame-ancestors 'self'"), std::string::npos);
    EXPECT_NE(csp.find("trusted-types secms-mail-frame"), std::string::npos);
    response remote{beast_http::status::ok, 11};
    apply_security_headers(remote);
    apply_mail_frame_policy(remote, "/mail-frame-remote.html");
    EXPECT_EQ(remote["Content-Security-Policy"], mail_frame_remote_content_security_policy);
    EXPECT_NE(std::string(remote["Content-Security-Policy"]).find("img-src data: blob: https:;"),
              std::string::npos);
    for (const char* other : {"/mail-frame.html?x=1", "/x/mail-frame.html", "/app.html",
                              "/mail-frame.htm", "/MAIL-FRAME.HTML"}) {
        response page{beast_http::status::ok, 11};
        apply_security_headers(page);
        apply_mail_frame_policy(page, other);
        EXPECT_EQ(page["Content-Security-Policy"], content_security_policy) << other;
        EXPECT_EQ(page["X-Frame-Options"], "DENY") << other;
    }
}

TEST(SecurityHeaders, EveryHeaderOfTheDesign) {
    response res{beast_http::status::ok, 11};
    apply_security_headers(res);
    EXPECT_EQ(res["Strict-Transport-Security"], "max-age=63072000; includeSubDomains; preload");
    std::string csp(res["Content-Security-Policy"]);
    for (const char* directive :
         {"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
          "frame-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
          "object-src 'none'", "require-trusted-types-for 'script'",
          "trusted-types lit-html secms-crypto-worker"}) {
        EXPECT_NE(csp.find(directive), std::string::npos) << directive;
    }
    // Only the named policies: no "default" policy, no duplicates, no wildcard, and none that
    // blesses mail HTML in the page (only the sandboxed mail frame parses it, under its own).
    EXPECT_TRUE(csp.ends_with("trusted-types lit-html secms-crypto-worker")) << csp;
    EXPECT_EQ(csp.find("secms-mail"), std::string::npos);
    EXPECT_EQ(csp.find("'allow-duplicates'"), std::string::npos);
    EXPECT_EQ(csp.find("default;"), std::string::npos);
    EXPECT_EQ(csp.find('*'), std::string::npos);
    EXPECT_EQ(csp.find("wasm-unsafe-eval"), std::string::npos) << "pages compile no WebAssembly";
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
    EXPECT_EQ(res["Cross-Origin-Opener-Policy"], "same-origin");
    EXPECT_EQ(res["Cross-Origin-Embedder-Policy"], "require-corp");
    EXPECT_EQ(res["Cross-Origin-Resource-Policy"], "same-origin");
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res["X-Frame-Options"], "DENY");
    EXPECT_NE(res["Permissions-Policy"].find("camera=(self)"), std::string::npos);
    EXPECT_NE(res["Permissions-Policy"].find("microphone=(self)"), std::string::npos);
    EXPECT_NE(res["Permissions-Policy"].find("display-capture=(self)"), std::string::npos);
    EXPECT_TRUE(res["Cache-Control"].starts_with("no-store"));
}

// With SIP on, the pages may also connect to the SIP WebSocket's origin, and to nothing else;
// the Worker and the mail frames keep their own policies.
TEST(SecurityHeaders, SipWebSocketOriginIsAddedToConnectSrcOnly) {
    EXPECT_EQ(page_content_security_policy(""), content_security_policy);
    const std::string policy = page_content_security_policy("wss://localhost:7443");
    std::string expected(content_security_policy);
    const std::string from = "connect-src 'self';";
    expected.replace(expected.find(from), from.size(), "connect-src 'self' wss://localhost:7443;");
    EXPECT_EQ(policy, expected);
    EXPECT_EQ(policy.find("wss://localhost:7443"), policy.rfind("wss://localhost:7443"));
}

TEST(RequestPath, Normalises) {
    EXPECT_EQ(*normalise_request_path("/"), "/");
    EXPECT_EQ(*normalise_request_path("/assets/app-1A2b.js?v=1#x"), "/assets/app-1A2b.js");
    EXPECT_EQ(*normalise_request_path("/a%20b.txt"), "/a b.txt");
    EXPECT_EQ(*normalise_request_path("/api/v1/me"), "/api/v1/me");
}

TEST(RequestPath, RefusesTraversalAndOddities) {
    for (const char* bad :
         {"", "assets/x.js", "/../etc/passwd", "/assets/../../etc/passwd", "/%2e%2e/etc/passwd",
          "/%2E%2E%2Fetc", "/a/%2f/b", "/a\\b", "/a%5c..%5cb", "/a%00b", "/a\x01", "/./x", "/x/.",
          "//etc/passwd", "/a//b", "/%", "/%4", "/%zz", "http://example.com/"}) {
        EXPECT_FALSE(normalise_request_path(bad)) << bad;
    }
    EXPECT_FALSE(normalise_request_path("/" + std::string(2000, 'a')));
}

TEST(Cookies, FindsTheSessionCookieOnly) {
    EXPECT_EQ(*find_session_cookie("__Host-sid=abc"), "abc");
    EXPECT_EQ(*find_session_cookie("a=1; __Host-sid=xyz; b=2"), "xyz");
    EXPECT_FALSE(find_session_cookie("sid=abc; Host-sid=def"));
    EXPECT_FALSE(find_session_cookie(""));
    std::string set = session_cookie("tok");
    EXPECT_EQ(set, "__Host-sid=tok; Path=/; Secure; HttpOnly; SameSite=Strict");
    EXPECT_NE(expired_session_cookie().find("Max-Age=0"), std::string::npos);
}

class StaticFilesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("secms-static-" + std::to_string(::getpid()));
        fs::remove_all(base_);
        fs::create_directories(base_ / "root" / "assets");
        std::ofstream(base_ / "root" / "index.html") << "<!doctype html><title>x</title>";
        std::ofstream(base_ / "root" / "assets" / "app-abc.js") << "export {};";
        std::ofstream(base_ / "secret.txt") << "outside";
        fs::create_symlink(base_ / "secret.txt", base_ / "root" / "link.txt");
    }
    void TearDown() override { fs::remove_all(base_); }
    fs::path base_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypes) {
    static_files files(base_ / "root");
    auto index = files.serve("/", 11, false);
    ASSERT_TRUE(index);
    EXPECT_EQ((*index)[beast_http::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(index->body(), "<!doctype html><title>x</title>");
    auto js = files.serve("/assets/app-abc.js", 11, false);
    ASSERT_TRUE(js);
    EXPECT_EQ((*js)[beast_http::field::content_type], "text/javascript; charset=utf-8");
    auto head = files.serve("/assets/app-abc.js", 11, true);
    ASSERT_TRUE(head);
    EXPECT_TRUE(head->body().empty());
}

TEST_F(StaticFilesTest, NoListingNoEscape) {
    static_files files(base_ / "root");
    EXPECT_FALSE(files.serve("/assets", 11, false));  // a directory is never listed
    EXPECT_FALSE(files.serve("/assets/", 11, false));
    EXPECT_FALSE(files.serve("/link.txt", 11, false));  // symlink out of the root
    EXPECT_FALSE(files.serve("/missing.js", 11, false));
}

// The router, driven through a real io_context with the in-memory store and key store.
class RouterTest : public ::testing::Test {
  protected:
    core::system_clock clock_;
    std::unique_ptr<store::user_store> users_ = store::make_memory_store();
    std::unique_ptr<hsm::key_store> keys_ = hsm::make_memory_key_store();
    auth::password_hasher hasher_{*keys_, {}};
    auth::account_service accounts_{*users_, hasher_, clock_};
    auth::login_sessions sessions_{{}, clock_};
    auth::rate_limiter ip_{{100, 100, 1000}, clock_};
    auth::login_throttle account_{{3}, clock_};  // three free failures, then 1 s, 2 s, …
    auth::rate_limiter register_{{100, 100, 1000}, clock_};
    core::metrics metrics_;
    static_files files_{fs::temp_directory_path()};
    boost::asio::thread_pool pool_{1};
    server_context ctx_{{"https://localhost:8443", {"https://localhost:8443"}, false},
                        accounts_,
                        sessions_,
                        {ip_, account_, register_},
                        metrics_,
                        files_,
                        pool_};

    response run(request req) {
        boost::asio::io_context io;
        response out;
        boost::asio::co_spawn(io, handle_request(std::move(req), {"127.0.0.1", true}, ctx_),
                              [&](std::exception_ptr e, response r) {
                                  if (e) std::rethrow_exception(e);
                                  out = std::move(r);
                              });
        io.run();
        return out;
    }

    request json_request(beast_http::verb method, std::string target, std::string body,
                         std::string cookie = {}) {
        request req{method, target, 11};
        req.set(beast_http::field::content_type, "application/json");
        req.set(beast_http::field::origin, "https://localhost:8443");
        if (!cookie.empty()) req.set(beast_http::field::cookie, cookie);
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    }

    static std::string error_code(const response& res) {
        auto v = boost::json::parse(res.body());
        return std::string(v.at("error").at("code").as_string());
    }
};

TEST_F(RouterTest, RegisterLoginMeLogout) {
    auto reg = run(json_request(beast_http::verb::post, "/api/v1/accounts",
                                R"({"username":"alice","password":"correct horse battery"})"));
    EXPECT_EQ(reg.result_int(), 201u);
    auto login = run(json_request(beast_http::verb::post, "/api/v1/session",
                                  R"({"username":"ALICE","password":"correct horse battery"})"));
    ASSERT_EQ(login.result_int(), 200u);
    std::string set_cookie(login[beast_http::field::set_cookie]);
    ASSERT_TRUE(set_cookie.starts_with("__Host-sid="));
    std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    auto me = run(json_request(beast_http::verb::get, "/api/v1/me", "", cookie));
    EXPECT_EQ(me.result_int(), 200u);
    EXPECT_NE(me.body().find("\"username\":\"alice\""), std::string::npos);
    auto out = run(json_request(beast_http::verb::delete_, "/api/v1/session", "", cookie));
    EXPECT_EQ(out.result_int(), 204u);
    EXPECT_EQ(out["Clear-Site-Data"], "\"cache\", \"cookies\", \"storage\"");
    auto after = run(json_request(beast_http::verb::get, "/api/v1/me", "", cookie));
    EXPECT_EQ(after.result_int(), 401u);
    EXPECT_EQ(error_code(after), "not_authenticated");
    EXPECT_EQ(metrics_.logins_ok.load(), 1);
    // Every response carries the security headers.
    EXPECT_EQ(after["X-Frame-Options"], "DENY");
}

TEST_F(RouterTest, ErrorsAreJsonWithStatus) {
    auto bad_json = run(json_request(beast_http::verb::post, "/api/v1/accounts", "{not json"));
    EXPECT_EQ(bad_json.result_int(), 400u);
    EXPECT_EQ(error_code(bad_json), "bad_request");
    auto missing =
        run(json_request(beast_http::verb::post, "/api/v1/accounts", R"({"username":1})"));
    EXPECT_EQ(missing.result_int(), 400u);
    auto weak = run(json_request(beast_http::verb::post, "/api/v1/accounts",
                                 R"({"username":"bob","password":"short"})"));
    EXPECT_EQ(error_code(weak), "invalid_password");
    request no_origin = json_request(beast_http::verb::post, "/api/v1/accounts", "{}");
    no_origin.erase(beast_http::field::origin);
    auto forbidden = run(std::move(no_origin));
    EXPECT_EQ(forbidden.result_int(), 403u);
    EXPECT_EQ(error_code(forbidden), "forbidden_origin");
    request wrong_type = json_request(beast_http::verb::post, "/api/v1/accounts", "{}");
    wrong_type.set(beast_http::field::content_type, "text/plain");
    EXPECT_EQ(run(std::move(wrong_type)).result_int(), 415u);
    auto deep = run(json_request(beast_http::verb::post, "/api/v1/accounts",
                                 std::string(100, '[') + std::string(100, ']')));
    EXPECT_EQ(deep.result_int(), 400u);
    EXPECT_EQ(run(json_request(beast_http::verb::get, "/api/v1/nothing", "")).result_int(), 404u);
    EXPECT_EQ(run(json_request(beast_http::verb::get, "/api/v1/accounts", "")).result_int(), 405u);
}

TEST_F(RouterTest, SameErrorForUnknownUserAndWrongPassword) {
    run(json_request(beast_http::verb::post, "/api/v1/accounts",
                     R"({"username":"carol","password":"correct horse battery"})"));
    auto wrong = run(json_request(beast_http::verb::post, "/api/v1/session",
                                  R"({"username":"carol","password":"wrong horse battery"})"));
    auto unknown = run(json_request(beast_http::verb::post, "/api/v1/session",
                                    R"({"username":"nobody","password":"wrong horse battery"})"));
    EXPECT_EQ(wrong.result_int(), 401u);
    EXPECT_EQ(wrong.body(), unknown.body());
    EXPECT_EQ(unknown.result_int(), 401u);
}

TEST_F(RouterTest, AccountRateLimitWithRetryAfter) {
    run(json_request(beast_http::verb::post, "/api/v1/accounts",
                     R"({"username":"dave","password":"correct horse battery"})"));
    for (int i = 0; i < 3; ++i) {
        auto r = run(json_request(beast_http::verb::post, "/api/v1/session",
                                  R"({"username":"dave","password":"wrong password!!"})"));
        EXPECT_EQ(r.result_int(), 401u);
    }
    auto limited = run(json_request(beast_http::verb::post, "/api/v1/session",
                                    R"({"username":"dave","password":"correct horse battery"})"));
    EXPECT_EQ(limited.result_int(), 429u);
    EXPECT_EQ(error_code(limited), "rate_limited");
    EXPECT_GE(std::stoi(std::string(limited[beast_http::field::retry_after])), 1);
}

TEST_F(RouterTest, PasswordChangeEndsOtherSessions) {
    run(json_request(beast_http::verb::post, "/api/v1/accounts",
                     R"({"username":"erin","password":"correct horse battery"})"));
    auto cookie_of = [](const response& r) {
        std::string s(r[beast_http::field::set_cookie]);
        return s.substr(0, s.find(';'));
    };
    std::string a =
        cookie_of(run(json_request(beast_http::verb::post, "/api/v1/session",
                                   R"({"username":"erin","password":"correct horse battery"})")));
    std::string b =
        cookie_of(run(json_request(beast_http::verb::post, "/api/v1/session",
                                   R"({"username":"erin","password":"correct horse battery"})")));
    auto changed = run(json_request(
        beast_http::verb::put, "/api/v1/me/password",
        R"({"current_password":"correct horse battery","new_password":"another good one"})", a));
    EXPECT_EQ(changed.result_int(), 204u);
    EXPECT_EQ(run(json_request(beast_http::verb::get, "/api/v1/me", "", a)).result_int(), 200u);
    EXPECT_EQ(run(json_request(beast_http::verb::get, "/api/v1/me", "", b)).result_int(), 401u);
    auto del = run(json_request(beast_http::verb::delete_, "/api/v1/me",
                                R"({"password":"another good one"})", a));
    EXPECT_EQ(del.result_int(), 204u);
    EXPECT_EQ(run(json_request(beast_http::verb::get, "/api/v1/me", "", a)).result_int(), 401u);
}

// SIP off (no module): its paths answer 404 not_enabled, and the page policy is the built-in one;
// a configured policy replaces it on every response except the Worker's and the mail frames'.
TEST_F(RouterTest, SipOffIsNotEnabledAndTheConfiguredPolicyIsUsed) {
    for (const char* target : {"/api/v1/sip/devices", "/api/v1/sip/devices/x"}) {
        auto res = run(json_request(beast_http::verb::get, target, ""));
        EXPECT_EQ(res.result_int(), 404u) << target;
        EXPECT_EQ(error_code(res), "not_enabled") << target;
        EXPECT_EQ(res["Content-Security-Policy"], content_security_policy);
    }
    // GET /api/v1/sip answers a logged-in page 200 {"enabled":false} (the integration test
    // sip-api.test.mjs logs in); without a login it is 401 like every other account route.
    auto asked = run(json_request(beast_http::verb::get, "/api/v1/sip", ""));
    EXPECT_EQ(asked.result_int(), 401u);
    EXPECT_EQ(asked["Content-Security-Policy"], content_security_policy);
    EXPECT_EQ(error_code(run(json_request(beast_http::verb::get, "/api/v1/sipx", ""))),
              "not_found");
    ctx_.settings.content_security_policy = page_content_security_policy("wss://sip.example:7443");
    auto page = run(json_request(beast_http::verb::get, "/api/v1/me", ""));
    EXPECT_EQ(page["Content-Security-Policy"], ctx_.settings.content_security_policy);
    auto worker = run(json_request(beast_http::verb::get, "/assets/worker-ABC.js", ""));
    EXPECT_EQ(worker["Content-Security-Policy"], worker_content_security_policy);
    auto frame = run(json_request(beast_http::verb::get, "/mail-frame.html", ""));
    EXPECT_EQ(frame["Content-Security-Policy"], mail_frame_content_security_policy);
}

}  // namespace
}  // namespace secms::http

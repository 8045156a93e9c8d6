#include "server/http/router.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "server/auth/client_address.hpp"
#include "server/auth/credentials.hpp"
#include "server/core/log.hpp"
#include "server/core/offload.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/http/cookies.hpp"
#include "server/http/request_path.hpp"
#include "server/http/responses.hpp"
#include "server/http/security_headers.hpp"

namespace secms::http {

namespace json = boost::json;
using beast_http::status;
using beast_http::verb;

bool origin_allowed(const http_settings& settings, std::string_view origin) {
    for (const auto& allowed : settings.allowed_origins) {
        if (origin == allowed) return true;
    }
    return false;
}

namespace {

json::object user_json(const store::user_record& u) {
    json::object o;
    o["userid"] = u.userid;
    o["username"] = u.username;
    o["role"] = store::to_string(u.role);
    o["created_at"] = u.created_at;
    return o;
}

// Request bodies may hold passwords: wipe them once parsed.
struct wiped_body {
    std::string& body;
    ~wiped_body() { core::wipe(body.data(), body.size()); }
};

// A JSON object body, or the error response to send instead.
struct parsed_body {
    std::optional<json::object> object;
    std::optional<response> error;
};

parsed_body parse_json_object(request& req) {
    auto type = req[beast_http::field::content_type];
    if (!type.starts_with("application/json")) {
        return {std::nullopt,
                error_response(status::unsupported_media_type, "unsupported_media_type",
                               "Send the request body as application/json.", req.version())};
    }
    wiped_body wipe{req.body()};
    json::parse_options options;
    options.max_depth = 8;
    boost::system::error_code ec;
    json::value v = json::parse(req.body(), ec, {}, options);
    if (ec || !v.is_object()) {
        return {std::nullopt,
                error_response(status::bad_request, "bad_request",
                               "The request body is not a JSON object.", req.version())};
    }
    return {std::move(v.as_object()), std::nullopt};
}

// Reads a string field into a secret, wiping the JSON copy.
std::optional<core::secret_string> take_secret(json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    json::string& s = v->as_string();
    core::secret_string out{std::string(s.data(), s.size())};
    core::wipe(s.data(), s.size());
    return out;
}

std::optional<std::string> take_string(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

response missing_fields(unsigned version) {
    return error_response(status::bad_request, "bad_request",
                          "A required field is missing or is not a string.", version);
}

response rate_limited(std::chrono::seconds wait, unsigned version) {
    response res = error_response(auth::auth_error::rate_limited, version);
    res.set(beast_http::field::retry_after, std::to_string(std::max<long>(1, wait.count())));
    return res;
}

void clear_client_state(response& res) {
    res.set("Clear-Site-Data", clear_site_data);
    res.set(beast_http::field::set_cookie, expired_session_cookie());
}

// {username, password} of a registration or a login, or the error response to send instead.
struct credentials_body {
    std::optional<std::string> username;
    std::optional<core::secret_string> password;
    std::optional<response> error;
};

credentials_body read_credentials(request& req) {
    auto body = parse_json_object(req);
    if (!body.object) return {std::nullopt, std::nullopt, std::move(body.error)};
    auto username = take_string(*body.object, "username");
    auto password = take_secret(*body.object, "password");
    if (!username || !password) return {std::nullopt, std::nullopt, missing_fields(req.version())};
    return {std::move(username), std::move(password), std::nullopt};
}

using route_result = boost::asio::awaitable<response>;

route_result register_account(request& req, const client_info& client, server_context& ctx) {
    if (auto wait = ctx.limits.register_per_ip.acquire(auth::address_key(client.address))) {
        co_return rate_limited(*wait, req.version());
    }
    auto credentials = read_credentials(req);
    if (!credentials.username) co_return std::move(*credentials.error);
    auto& username = credentials.username;
    auto& password = credentials.password;
    auto created = co_await core::offload_counted(ctx.work_pool, ctx.metrics.hash_queue_depth, [&] {
        return ctx.accounts.register_user(*username, *password);
    });
    if (!created) co_return error_response(created.error(), req.version());
    spdlog::info("account created userid={}", created->userid);
    json::object out;
    out["user"] = user_json(*created);
    co_return json_response(status::created, out, req.version());
}

route_result login(request& req, const client_info& client, server_context& ctx) {
    auto credentials = read_credentials(req);
    if (!credentials.username) co_return std::move(*credentials.error);
    auto& username = credentials.username;
    auto& password = credentials.password;
    // A name that breaks the (public) rules cannot be an account: refuse it before it costs a
    // hash or becomes a key of any limiter.
    if (!auth::check_username(*username)) {
        ++ctx.metrics.logins_failed;
        co_return error_response(auth::auth_error::invalid_username, req.version());
    }
    std::string address = auth::address_key(client.address);
    if (auto wait = ctx.limits.login_per_ip.acquire(address)) {
        ++ctx.metrics.logins_failed;
        co_return rate_limited(*wait, req.version());
    }
    // Failed logins are throttled per (account, client address): guesses from one address never
    // hold the owner back elsewhere (OWASP: slow down, do not lock out).
    std::string account = auth::username_key(*username);
    auto throttled = ctx.limits.login_throttle.begin(account, address);
    if (throttled.refused_for) {
        ++ctx.metrics.logins_failed;
        co_return rate_limited(*throttled.refused_for, req.version());
    }
    if (throttled.slow_down.count() > 0) {
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor,
                                        throttled.slow_down);
        co_await pause.async_wait(boost::asio::use_awaitable);
    }
    // At most twice: when a password change or an account deletion ends the user's logins while
    // this one verifies, its session is refused and the password is checked again, against the
    // hash stored now.
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto ticket = ctx.sessions.begin_login();
        auto user = co_await core::offload_counted(
            ctx.work_pool, ctx.metrics.hash_queue_depth,
            [&] { return ctx.accounts.authenticate(*username, *password); });
        if (!user) {
            auto error = user.error();
            // While the token fails, a known name gets `unavailable` (its MAC failed) but an
            // unknown one `invalid_credentials` (its stand-in MAC fails silently): both get
            // 503, or the outage would tell which accounts exist.
            if (error == auth::auth_error::invalid_credentials && ctx.keys != nullptr &&
                !ctx.keys->reachable()) {
                error = auth::auth_error::unavailable;
            }
            ++ctx.metrics.logins_failed;
            // Only a wrong password counts against the (account, address) pair; an outage says
            // nothing about the password and gives the attempt back.
            if (error == auth::auth_error::invalid_credentials) {
                ctx.limits.login_throttle.failed(account);
            } else if (error == auth::auth_error::account_disabled) {
                ctx.limits.login_throttle.succeeded(account, address);
            } else {
                ctx.limits.login_throttle.released(account, address);
            }
            spdlog::info("login failed from {}: {}", client.address, auth::code(error));
            co_return error_response(error, req.version());
        }
        auto login = ctx.sessions.create(user->userid, user->username, user->role, ticket);
        if (!login && login.error() == auth::login_refusal::table_full) {
            // The password was right; no other user's login is ended to make room.
            ++ctx.metrics.logins_failed;
            ctx.limits.login_throttle.succeeded(account, address);
            spdlog::warn("login refused: the login table is full");
            co_return error_response(status::service_unavailable, "service_unavailable",
                                     "The server cannot take more logins now; try again later.",
                                     req.version());
        }
        if (!login) continue;
        ++ctx.metrics.logins_ok;
        ctx.limits.login_throttle.succeeded(account, address);
        // Session fixation defence: whatever session the browser had ends; a new token is issued.
        if (auto old = find_session_cookie(req[beast_http::field::cookie])) ctx.sessions.end(*old);
        spdlog::info("login userid={}", user->userid);
        json::object out;
        out["user"] = user_json(*user);
        response res = json_response(status::ok, out, req.version());
        res.set(beast_http::field::set_cookie, session_cookie(login->cookie_token));
        core::wipe(login->cookie_token.data(), login->cookie_token.size());
        co_return res;
    }
    ++ctx.metrics.logins_failed;
    ctx.limits.login_throttle.released(account, address);
    co_return error_response(auth::auth_error::unavailable, req.version());
}

route_result logout(request& req, server_context& ctx) {
    if (auto token = find_session_cookie(req[beast_http::field::cookie])) ctx.sessions.end(*token);
    response res = empty_response(status::no_content, req.version());
    clear_client_state(res);
    co_return res;
}

route_result me(request& req, server_context& ctx) {
    auto session = authenticate_request(req, ctx);
    if (!session) co_return error_response(auth::auth_error::not_authenticated, req.version());
    auto user =
        co_await core::offload(ctx.work_pool, [&] { return ctx.accounts.find(session->userid); });
    if (!user) co_return error_response(auth::auth_error::not_authenticated, req.version());
    json::object out;
    out["user"] = user_json(*user);
    co_return json_response(status::ok, out, req.version());
}

// An action of a logged-in session that proves the user's own password (change password,
// delete account). The session is proven, so login failures from anywhere never refuse it;
// wrong passwords sent through this one session are slowed like login guesses, so a stolen
// session is no guessing oracle. Only a wrong password counts: a weak new password or an
// outage gives the attempt back. Returns the answer when refused or failed, nothing on success.
template <class Action>
boost::asio::awaitable<std::optional<response>> run_password_proven(
    const request& req, server_context& ctx, const auth::login_session& session, Action action) {
    std::string account = auth::username_key(session.username);
    std::string client_key = "session:" + session.id;
    auto throttled = ctx.limits.login_throttle.begin(account, client_key);
    if (throttled.refused_for) co_return rate_limited(*throttled.refused_for, req.version());
    auto done = co_await core::offload_counted(ctx.work_pool, ctx.metrics.hash_queue_depth, action);
    if (!done) {
        if (done.error() == auth::auth_error::invalid_credentials) {
            ctx.limits.login_throttle.failed(account);
        } else {
            ctx.limits.login_throttle.released(account, client_key);
        }
        co_return error_response(done.error(), req.version());
    }
    ctx.limits.login_throttle.succeeded(account, client_key);
    co_return std::nullopt;
}

route_result change_password(request& req, server_context& ctx) {
    auto session = authenticate_request(req, ctx);
    if (!session) co_return error_response(auth::auth_error::not_authenticated, req.version());
    auto body = parse_json_object(req);
    if (!body.object) co_return std::move(*body.error);
    auto current = take_secret(*body.object, "current_password");
    auto next = take_secret(*body.object, "new_password");
    if (!current || !next) co_return missing_fields(req.version());
    auto refused = co_await run_password_proven(req, ctx, *session, [&] {
        return ctx.accounts.change_password(session->userid, *current, *next);
    });
    if (refused) co_return std::move(*refused);
    // Every other login of this user ends: a stolen session does not survive a password change.
    ctx.sessions.end_all_for_user(session->userid, session->id);
    spdlog::info("password changed userid={}", session->userid);
    co_return empty_response(status::no_content, req.version());
}

route_result delete_me(request& req, server_context& ctx) {
    auto session = authenticate_request(req, ctx);
    if (!session) co_return error_response(auth::auth_error::not_authenticated, req.version());
    auto body = parse_json_object(req);
    if (!body.object) co_return std::move(*body.error);
    auto password = take_secret(*body.object, "password");
    if (!password) co_return missing_fields(req.version());
    auto refused = co_await run_password_proven(req, ctx, *session, [&] {
        return ctx.accounts.delete_account(session->userid, *password);
    });
    if (refused) co_return std::move(*refused);
    ctx.sessions.end_all_for_user(session->userid);
    spdlog::info("account deleted userid={}", session->userid);
    response res = empty_response(status::no_content, req.version());
    clear_client_state(res);
    co_return res;
}

// TURN REST credentials for calls (docs/api.md "TURN credentials"). Limited per account, not per
// address: a credential is worth relay bandwidth, and every tab of one user shares the bucket.
route_result turn_credentials(request& req, server_context& ctx) {
    auto session = authenticate_request(req, ctx);
    if (!session) {
        ++ctx.metrics.turn_credentials_refused;
        co_return error_response(auth::auth_error::not_authenticated, req.version());
    }
    if (auto wait = ctx.turn_per_user->acquire(std::to_string(session->userid))) {
        ++ctx.metrics.turn_credentials_refused;
        co_return rate_limited(*wait, req.version());
    }
    auto issued = ctx.turn->issue(session->userid);
    if (!issued) {
        ++ctx.metrics.turn_credentials_refused;
        spdlog::error("TURN credential failed: {}", calls::message(issued.error()));
        co_return error_response(status::internal_server_error, "internal", "Internal error.",
                                 req.version());
    }
    ++ctx.metrics.turn_credentials_issued;
    co_return json_response(status::ok, *issued, req.version());
}

response method_not_allowed(std::string_view allow, unsigned version) {
    response res = error_response(status::method_not_allowed, "method_not_allowed",
                                  "This method is not allowed here.", version);
    res.set(beast_http::field::allow, allow);
    return res;
}

response not_found(unsigned version) {
    return error_response(status::not_found, "not_found", "Nothing here.", version);
}

// A service turned off on this server (mail, SIP). The one route the page asks at every login or
// first view (`status_route`, GET) answers a logged-in page 200 {"enabled":false}, so the page
// shows the service as off without a 404 in its console; every other route is 404 not_enabled.
response feature_off(const request& req, server_context& ctx, bool status_route,
                     std::string_view message) {
    if (status_route && req.method() == verb::get) {
        if (!authenticate_request(req, ctx))
            return error_response(auth::auth_error::not_authenticated, req.version());
        json::object out;
        out["enabled"] = false;
        return json_response(status::ok, out, req.version());
    }
    return error_response(status::not_found, "not_enabled", message, req.version());
}

route_result dispatch(request& req, const client_info& client, server_context& ctx) {
    auto path = normalise_request_path(req.target());
    if (!path) {
        co_return error_response(status::bad_request, "bad_request", "Malformed request target.",
                                 req.version());
    }
    verb method = req.method();
    bool changes_state = method == verb::post || method == verb::put || method == verb::delete_ ||
                         method == verb::patch;
    // CSRF defence in depth beside SameSite=Strict: state changes only from our own pages.
    if (changes_state && !origin_allowed(ctx.settings, req[beast_http::field::origin])) {
        co_return error_response(status::forbidden, "forbidden_origin",
                                 "Requests that change state must come from this site.",
                                 req.version());
    }

    if (*path == "/healthz") {
        if (method != verb::get && method != verb::head)
            co_return method_not_allowed("GET, HEAD", req.version());
        // Without the token no login or registration can work: a lost token makes the service
        // unhealthy (probed at most once a second, docs/api.md).
        const bool token_ok = ctx.keys == nullptr || ctx.keys->probe();
        response res{token_ok ? status::ok : status::service_unavailable, req.version()};
        res.set(beast_http::field::content_type, "text/plain; charset=utf-8");
        res.body() = token_ok ? "ok\n" : "degraded: hsm unavailable\n";
        res.prepare_payload();
        co_return res;
    }
    if (*path == "/metrics") {
        if (!client.loopback && !ctx.settings.metrics_public) co_return not_found(req.version());
        if (method != verb::get) co_return method_not_allowed("GET", req.version());
        response res{status::ok, req.version()};
        res.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = ctx.metrics.render();
        res.prepare_payload();
        co_return res;
    }
    if (path->starts_with("/api/")) {
        if (*path == "/api/v1/accounts") {
            if (method == verb::post) co_return co_await register_account(req, client, ctx);
            co_return method_not_allowed("POST", req.version());
        }
        if (*path == "/api/v1/session") {
            if (method == verb::post) co_return co_await login(req, client, ctx);
            if (method == verb::delete_) co_return co_await logout(req, ctx);
            co_return method_not_allowed("POST, DELETE", req.version());
        }
        if (*path == "/api/v1/me") {
            if (method == verb::get) co_return co_await me(req, ctx);
            if (method == verb::delete_) co_return co_await delete_me(req, ctx);
            co_return method_not_allowed("GET, DELETE", req.version());
        }
        if (*path == "/api/v1/me/password") {
            if (method == verb::put) co_return co_await change_password(req, ctx);
            co_return method_not_allowed("PUT", req.version());
        }
        if (path->starts_with("/api/v1/mail/")) {
            if (ctx.mail != nullptr) co_return co_await ctx.mail->handle(req, *path, ctx);
            // The page asks the status of every login (the Email tab is then shown as off).
            co_return feature_off(req, ctx, *path == "/api/v1/mail/status",
                                  "Mail is not enabled on this server.");
        }
        if (*path == "/api/v1/sip" || path->starts_with("/api/v1/sip/")) {
            if (ctx.sip != nullptr) co_return co_await ctx.sip->handle(req, *path, ctx);
            // The page asks on the first view of the VoIP tab (the phone section then says so).
            co_return feature_off(req, ctx, *path == "/api/v1/sip",
                                  "SIP is not enabled on this server.");
        }
        if (path->starts_with("/api/v1/admin/") && ctx.admin != nullptr)
            co_return co_await ctx.admin->handle(req, *path, ctx);
        if (*path == "/api/v1/turn" && ctx.turn != nullptr && ctx.turn_per_user != nullptr) {
            if (method == verb::get) co_return co_await turn_credentials(req, ctx);
            co_return method_not_allowed("GET", req.version());
        }
        co_return not_found(req.version());
    }
    if (method != verb::get && method != verb::head)
        co_return method_not_allowed("GET, HEAD", req.version());
    if (auto file = ctx.files.serve(*path, req.version(), method == verb::head)) {
        co_return std::move(*file);
    }
    co_return not_found(req.version());
}

}  // namespace

std::optional<auth::login_session> authenticate_request(const request& req, server_context& ctx) {
    auto token = find_session_cookie(req[beast_http::field::cookie]);
    if (!token) return std::nullopt;
    return ctx.sessions.touch(*token);
}

boost::asio::awaitable<response> handle_request(request req, client_info client,
                                                server_context& ctx) {
    response res;
    try {
        res = co_await dispatch(req, client, ctx);
    } catch (const std::exception& e) {
        // A bug, not an expected failure: log it without request data, answer a bare 500.
        spdlog::error("request handler failed: {}", core::log_escape(e.what()));
        res = error_response(status::internal_server_error, "internal", "Internal error.",
                             req.version());
    }
    // RFC 9110 §9.3.2: a HEAD answer has the headers of the GET answer and no content, whatever
    // the handler produced (error answers are JSON bodies); Content-Length still tells its size.
    if (req.method() == beast_http::verb::head && !res.body().empty()) {
        const auto size = res.body().size();
        res.body().clear();
        res.content_length(size);
    }
    apply_security_headers(res);
    if (!ctx.settings.content_security_policy.empty())
        res.set("Content-Security-Policy", ctx.settings.content_security_policy);
    apply_worker_script_policy(res, std::string_view(req.target().data(), req.target().size()));
    apply_mail_frame_policy(res, std::string_view(req.target().data(), req.target().size()));
    res.keep_alive(req.keep_alive());
    ctx.metrics.count_response(res.result_int());
    co_return res;
}

}  // namespace secms::http

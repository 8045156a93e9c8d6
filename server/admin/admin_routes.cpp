#include "server/admin/admin_routes.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "server/auth/credentials.hpp"
#include "server/core/offload.hpp"
#include "server/http/responses.hpp"
#include "server/http/router.hpp"

namespace secms::admin {

namespace json = boost::json;
using http::beast_http::status;
using http::beast_http::verb;

namespace {

constexpr std::string_view users_path = "/api/v1/admin/users";
// The role body is {"role":"moderator"}: anything much larger is not a role request.
constexpr std::size_t max_request_body = 1024;
constexpr std::int64_t max_offset = 1'000'000'000;
constexpr std::size_t max_query_length = 256;

http::response error(status s, std::string_view code, std::string_view text, unsigned version) {
    return http::error_response(s, code, text, version);
}

http::response method_not_allowed(std::string_view allow, unsigned version) {
    auto res = error(status::method_not_allowed, "method_not_allowed",
                     "This method is not allowed here.", version);
    res.set(http::beast_http::field::allow, allow);
    return res;
}

http::response not_found(unsigned version) {
    return error(status::not_found, "not_found", "Nothing here.", version);
}

http::response unavailable(unsigned version) {
    return error(status::service_unavailable, "unavailable",
                 "The user database cannot be read or written now; try again later.", version);
}

http::response ok(unsigned version) {
    json::object out;
    out["ok"] = true;
    return http::json_response(status::ok, out, version);
}

std::optional<std::int64_t> parse_number(std::string_view text, std::int64_t low,
                                         std::int64_t high) {
    // Decimal digits only: no sign, no spaces, at most 10 of them.
    if (text.empty() || text.size() > 10) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    if (value < low || value > high) return std::nullopt;
    return value;
}

}  // namespace

std::optional<page_request> parse_page_query(std::string_view target) {
    page_request page;
    const auto mark = target.find('?');
    if (mark == std::string_view::npos) return page;
    std::string_view query = target.substr(mark + 1);
    if (const auto hash = query.find('#'); hash != std::string_view::npos)
        query = query.substr(0, hash);
    if (query.size() > max_query_length) return std::nullopt;
    bool seen_offset = false, seen_limit = false;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (key == "offset") {
            auto n = parse_number(value, 0, max_offset);
            if (!n || seen_offset) return std::nullopt;
            page.offset = *n;
            seen_offset = true;
        } else if (key == "limit") {
            auto n = parse_number(value, 1, max_page_size);
            if (!n || seen_limit) return std::nullopt;
            page.limit = *n;
            seen_limit = true;
        }
    }
    return page;
}

std::string iso8601_utc(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    if (::gmtime_r(&t, &parts) == nullptr) return "1970-01-01T00:00:00Z";
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return std::string(text, n);
}

admin_routes::admin_routes(admin_settings settings, store::user_store& users,
                           const core::clock& clock)
    : users_(users),
      per_admin_({settings.per_admin_burst, settings.per_admin_per_minute,
                  std::max<std::size_t>(1, settings.limiter_max_keys)},
                 clock) {}

boost::asio::awaitable<http::response> admin_routes::handle(http::request& req,
                                                            std::string_view path,
                                                            http::server_context& ctx) {
    const unsigned version = req.version();
    auto login = http::authenticate_request(req, ctx);
    if (!login) co_return http::error_response(auth::auth_error::not_authenticated, version);
    // Taken before the store is read, from every login that asks: the admin role is checked
    // against the database, and a non-admin must not be able to make it read at will.
    if (auto wait = per_admin_.acquire(std::to_string(login->userid))) {
        auto res = http::error_response(auth::auth_error::rate_limited, version);
        res.set(http::beast_http::field::retry_after,
                std::to_string(std::max<long>(1, wait->count())));
        co_return res;
    }
    // The account as stored now, not as it was at login: a role taken away or an account
    // disabled from the command line a moment ago already counts.
    auto account =
        co_await core::offload(ctx.work_pool, [&] { return users_.find_by_id(login->userid); });
    if (!account) {
        if (account.error() == store::store_error::not_found)
            co_return http::error_response(auth::auth_error::not_authenticated, version);
        co_return unavailable(version);
    }
    if (account->role != store::role::admin || account->disabled) {
        co_return error(status::forbidden, "forbidden",
                        "Only administrators may use the administration API.", version);
    }
    const verb method = req.method();
    if (path == users_path) {
        if (method != verb::get) co_return method_not_allowed("GET", version);
        co_return co_await list_users(req, ctx);
    }
    if (!path.starts_with(users_path) || path.size() <= users_path.size() ||
        path[users_path.size()] != '/') {
        co_return not_found(version);
    }
    std::string_view rest = path.substr(users_path.size() + 1);
    const auto slash = rest.find('/');
    const std::string_view username = rest.substr(0, slash);
    const std::string_view verb_name =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (!auth::check_username(username)) {
        co_return error(status::bad_request, "bad_username",
                        "That is not a valid username (3 to 32 letters, digits, '.', '_' or '-').",
                        version);
    }
    if (slash == std::string_view::npos) {
        if (method != verb::delete_) co_return method_not_allowed("DELETE", version);
        co_return co_await act(req, account->userid, username, action::remove, ctx);
    }
    std::optional<action> what;
    if (verb_name == "disable") what = action::disable;
    if (verb_name == "enable") what = action::enable;
    if (verb_name == "role") what = action::set_role;
    if (verb_name == "end-logins") what = action::end_logins;
    if (!what) co_return not_found(version);
    if (method != verb::post) co_return method_not_allowed("POST", version);
    co_return co_await act(req, account->userid, username, *what, ctx);
}

boost::asio::awaitable<http::response> admin_routes::list_users(http::request& req,
                                                                http::server_context& ctx) {
    const auto target = std::string_view(req.target().data(), req.target().size());
    auto page = parse_page_query(target);
    if (!page) {
        co_return error(status::bad_request, "bad_request",
                        "offset must be 0 or more and limit 1 to 100, as decimal numbers.",
                        req.version());
    }
    auto listed = co_await core::offload(
        ctx.work_pool, [&] { return users_.list_page(page->offset, page->limit); });
    if (!listed) co_return unavailable(req.version());
    json::array users;
    for (const auto& u : listed->users) {
        json::object o;
        o["username"] = u.username;
        o["role"] = store::to_string(u.role);
        o["disabled"] = u.disabled;
        o["created_at"] = iso8601_utc(u.created_at);
        o["logins"] = ctx.sessions.count_for_user(u.userid);
        users.emplace_back(std::move(o));
    }
    json::object out;
    out["users"] = std::move(users);
    out["total"] = listed->total;
    co_return http::json_response(status::ok, out, req.version());
}

boost::asio::awaitable<http::response> admin_routes::act(http::request& req,
                                                         std::int64_t admin_userid,
                                                         std::string_view username, action what,
                                                         http::server_context& ctx) {
    const unsigned version = req.version();
    store::role new_role = store::role::user;
    if (what == action::set_role) {
        if (!req[http::beast_http::field::content_type].starts_with("application/json")) {
            co_return error(status::unsupported_media_type, "unsupported_media_type",
                            "Send the request body as application/json.", version);
        }
        if (req.body().size() > max_request_body) {
            co_return error(status::bad_request, "bad_role",
                            "The role must be user, moderator or admin.", version);
        }
        json::parse_options options;
        options.max_depth = 4;
        boost::system::error_code ec;
        json::value body = json::parse(req.body(), ec, {}, options);
        if (ec || !body.is_object()) {
            co_return error(status::bad_request, "bad_request",
                            "The request body is not a JSON object.", version);
        }
        const json::value* given = body.as_object().if_contains("role");
        std::optional<store::role> parsed;
        if (given != nullptr && given->is_string())
            parsed = store::parse_role(std::string_view(given->as_string()));
        if (!parsed) {
            co_return error(status::bad_request, "bad_role",
                            "The role must be user, moderator or admin.", version);
        }
        new_role = *parsed;
    }
    auto done = co_await core::offload(
        ctx.work_pool, [&] { return apply(admin_userid, username, what, new_role, ctx); });
    switch (done.what) {
        case outcome::unknown_user:
            co_return error(status::not_found, "unknown_user", "There is no user of that name.",
                            version);
        case outcome::self:
            co_return error(status::conflict, "self",
                            "You cannot disable, delete or change the role of your own account.",
                            version);
        case outcome::last_admin:
            co_return error(status::conflict, "last_admin",
                            "The server must keep at least one enabled administrator.", version);
        case outcome::forbidden:
            co_return error(status::forbidden, "forbidden",
                            "Only administrators may use the administration API.", version);
        case outcome::unavailable:
            co_return unavailable(version);
        case outcome::done:
            break;
    }
    if (what == action::end_logins) {
        json::object out;
        out["ok"] = true;
        out["ended"] = done.ended;
        co_return http::json_response(status::ok, out, version);
    }
    co_return ok(version);
}

std::optional<std::size_t> admin_routes::enabled_admins() {
    auto counted = users_.count_enabled_admins();
    if (!counted) return std::nullopt;
    return *counted;
}

admin_routes::result admin_routes::apply(std::int64_t admin_userid, std::string_view username,
                                         action what, store::role new_role,
                                         http::server_context& ctx) {
    std::lock_guard lock(changes_);
    // The acting account as stored now, in the same serialized step as the change: an admin
    // demoted, disabled or deleted after its request passed the check in handle() acts no more.
    auto actor = users_.find_by_id(admin_userid);
    if (!actor) {
        return {actor.error() == store::store_error::not_found ? outcome::forbidden
                                                               : outcome::unavailable};
    }
    if (actor->role != store::role::admin || actor->disabled) return {outcome::forbidden};
    auto target = users_.find_by_name(username);
    if (!target) {
        return {target.error() == store::store_error::not_found ? outcome::unknown_user
                                                                : outcome::unavailable};
    }
    const std::int64_t userid = target->userid;
    // Would the change leave no enabled admin? Checked before `self`, so the only admin trying
    // to demote themselves hears the reason that would still hold if it were someone else.
    const bool takes_an_admin = target->role == store::role::admin && !target->disabled &&
                                (what == action::disable || what == action::remove ||
                                 (what == action::set_role && new_role != store::role::admin));
    if (takes_an_admin) {
        auto admins = enabled_admins();
        if (!admins) return {outcome::unavailable};
        if (*admins <= 1) return {outcome::last_admin};
    }
    const bool changes_account =
        what == action::disable || what == action::remove || what == action::set_role;
    if (changes_account && userid == admin_userid) return {outcome::self};

    auto failed = [](auth::auth_error e) {
        // invalid_credentials is the store's not_found: deleted meanwhile.
        return result{e == auth::auth_error::invalid_credentials ? outcome::unknown_user
                                                                 : outcome::unavailable};
    };
    result out{outcome::done, userid, 0};
    switch (what) {
        case action::disable: {
            if (auto set = ctx.accounts.admin_set_disabled(target->username, true); !set)
                return failed(set.error());
            // Its WebSockets close with the logins (login_sessions::on_ended).
            out.ended = ctx.sessions.end_all_for_user(userid);
            spdlog::info("admin userid={} disabled userid={} ({} login(s) ended)", admin_userid,
                         userid, out.ended);
            break;
        }
        case action::enable: {
            if (auto set = ctx.accounts.admin_set_disabled(target->username, false); !set)
                return failed(set.error());
            spdlog::info("admin userid={} enabled userid={}", admin_userid, userid);
            break;
        }
        case action::set_role: {
            if (auto set = ctx.accounts.admin_set_role(target->username, new_role); !set)
                return failed(set.error());
            ctx.sessions.update_role(userid, new_role);
            if (on_role_changed_) on_role_changed_(userid, new_role);
            spdlog::info("admin userid={} set the role of userid={} to {}", admin_userid, userid,
                         store::to_string(new_role));
            break;
        }
        case action::end_logins: {
            out.ended = ctx.sessions.end_all_for_user(userid);
            spdlog::info("admin userid={} ended {} login(s) of userid={}", admin_userid, out.ended,
                         userid);
            break;
        }
        case action::remove: {
            // As `user delete` does: the account, then what the mail service keeps of the name.
            if (auto gone = ctx.accounts.admin_delete(target->username); !gone)
                return failed(gone.error());
            out.ended = ctx.sessions.end_all_for_user(userid);
            spdlog::info("admin userid={} deleted userid={}", admin_userid, userid);
            break;
        }
    }
    return out;
}

}  // namespace secms::admin

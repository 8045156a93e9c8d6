// The administration API, /api/v1/admin/… (docs/api.md "Admin"): for logins whose account has the
// admin role, a paged user list and the `user` subcommands' actions (disable, enable, role, end
// logins, delete), each taking effect at once on the running server: ended logins close their
// WebSockets (login_sessions::on_ended), a new role reaches the live logins.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "server/admin/account_watch.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/core/clock.hpp"
#include "server/http/server_context.hpp"
#include "server/store/user_store.hpp"

namespace secms::admin {

struct admin_settings {
    // Requests per admin account (every admin route; the panel lists, then acts).
    double per_admin_burst = 60;
    double per_admin_per_minute = 120;
    std::size_t limiter_max_keys = 100'000;
};

inline constexpr std::int64_t default_page_size = 50;
inline constexpr std::int64_t max_page_size = 100;

// offset and limit of GET /api/v1/admin/users from the request target's query; nullopt when one
// is not a decimal number in range (offset 0..1e9, limit 1..max_page_size). Others are ignored.
struct page_request {
    std::int64_t offset = 0;
    std::int64_t limit = default_page_size;
};
std::optional<page_request> parse_page_query(std::string_view target);

// Unix seconds as ISO 8601 UTC, "2026-12-01T06:25:59Z".
std::string iso8601_utc(std::int64_t unix_seconds);

class admin_routes final : public http::api_module {
  public:
    admin_routes(admin_settings settings, store::user_store& users, const core::clock& clock);

    // Told when a role changes through the API (set at start-up, before requests are served).
    void on_role_changed(role_changed cb) { on_role_changed_ = std::move(cb); }

    boost::asio::awaitable<http::response> handle(http::request& req, std::string_view path,
                                                  http::server_context& ctx) override;

  private:
    enum class action { disable, enable, set_role, end_logins, remove };
    enum class outcome { done, unknown_user, self, last_admin, forbidden, unavailable };
    struct result {
        outcome what = outcome::done;
        std::int64_t userid = 0;
        std::size_t ended = 0;
    };

    boost::asio::awaitable<http::response> list_users(http::request& req,
                                                      http::server_context& ctx);
    boost::asio::awaitable<http::response> act(http::request& req, std::int64_t admin_userid,
                                               std::string_view username, action what,
                                               http::server_context& ctx);
    // Runs on the work pool: the checks (the acting admin is still an enabled admin, self, last
    // admin) and the change, as one step.
    result apply(std::int64_t admin_userid, std::string_view username, action what,
                 store::role new_role, http::server_context& ctx);
    // Enabled accounts with the admin role; nullopt when the store cannot be read.
    std::optional<std::size_t> enabled_admins();

    store::user_store& users_;
    auth::rate_limiter per_admin_;
    role_changed on_role_changed_;
    // Two admins acting at once must not both pass the last-admin check.
    std::mutex changes_;
};

}  // namespace secms::admin

#include "server/sip/sip_routes.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

#include "server/core/offload.hpp"
#include "server/http/responses.hpp"
#include "server/http/router.hpp"

namespace secms::sip {

namespace json = boost::json;
using http::beast_http::status;
using http::beast_http::verb;

namespace {

constexpr std::string_view base_path = "/api/v1/sip";
constexpr std::string_view devices_path = "/api/v1/sip/devices";
// A label is at most 64 code points: a body much larger than that is not a label request.
constexpr std::size_t max_request_body = 4 * 1024;

http::response method_not_allowed(std::string_view allow, unsigned version) {
    auto res = http::error_response(status::method_not_allowed, "method_not_allowed",
                                    "This method is not allowed here.", version);
    res.set(http::beast_http::field::allow, allow);
    return res;
}

http::response not_found(unsigned version) {
    return http::error_response(status::not_found, "not_found", "Nothing here.", version);
}

http::response internal_error(unsigned version) {
    return http::error_response(status::internal_server_error, "internal", "Internal error.",
                                version);
}

http::response store_unavailable(unsigned version) {
    return http::error_response(status::service_unavailable, "unavailable",
                                "The device list cannot be read or written now; try again later.",
                                version);
}

http::response rate_limited(std::chrono::seconds wait, unsigned version) {
    auto res = http::error_response(auth::auth_error::rate_limited, version);
    res.set(http::beast_http::field::retry_after, std::to_string(std::max<long>(1, wait.count())));
    return res;
}

http::response invalid_label(unsigned version) {
    return http::error_response(status::bad_request, "invalid_label",
                                "A phone's name must be 1 to 64 characters, without control "
                                "characters.",
                                version);
}

}  // namespace

core::status<sip_error> check_settings(const sip_settings& s) {
    if (!valid_domain(s.domain)) return core::fail(sip_error::invalid_domain);
    if (!websocket_origin(s.websocket_url)) return core::fail(sip_error::invalid_websocket_url);
    if (s.credential_ttl < min_browser_ttl || s.credential_ttl > max_browser_ttl ||
        s.device_ttl_days < min_device_ttl_days || s.device_ttl_days > max_device_ttl_days) {
        return core::fail(sip_error::invalid_ttl);
    }
    if (!valid_host_port(s.phone_proxy) ||
        (!s.phone_tls_proxy.empty() && !valid_host_port(s.phone_tls_proxy))) {
        return core::fail(sip_error::invalid_proxy);
    }
    if (s.max_devices_per_user < 1 || s.max_devices_per_user > 1000 || !(s.per_user_burst >= 1) ||
        !(s.per_user_per_minute > 0) || s.limiter_max_keys < 1) {
        return core::fail(sip_error::invalid_limit);
    }
    return core::ok;
}

json::object device_json(const store::sip_device_record& d) {
    json::object o;
    o["id"] = d.device_id;
    o["label"] = d.label;
    o["createdAt"] = d.created_at;
    o["expiresAt"] = d.expires_at;
    return o;
}

sip_routes::sip_routes(sip_settings settings, sip_secret secret, store::sip_device_store& devices,
                       const core::clock& clock)
    : settings_(std::move(settings)),
      secret_(std::move(secret)),
      devices_(devices),
      clock_(clock),
      per_user_(
          {settings_.per_user_burst, settings_.per_user_per_minute, settings_.limiter_max_keys},
          clock) {}

core::result<std::unique_ptr<sip_routes>, sip_error> sip_routes::make(
    sip_settings settings, sip_secret secret, store::sip_device_store& devices,
    const core::clock& clock) {
    if (auto ok = check_settings(settings); !ok) return core::fail(ok.error());
    for (char& c : settings.domain) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return std::unique_ptr<sip_routes>(
        new sip_routes(std::move(settings), std::move(secret), devices, clock));
}

core::result<json::object, sip_error> sip_routes::browser_credentials(
    std::string_view account_name) const {
    auto made =
        make_browser_credential(secret_, account_name, clock_.unix_now(), settings_.credential_ttl);
    if (!made) return core::fail(made.error());
    json::object out;
    out["enabled"] = true;
    out["aor"] = "sip:" + made->user + "@" + settings_.domain;
    out["user"] = made->user;
    out["domain"] = settings_.domain;
    out["websocketUrl"] = settings_.websocket_url;
    out["authorizationUsername"] = made->auth_username;
    out["password"] = made->password;
    out["expiresAt"] = made->expires_at;
    out["ttl"] = settings_.credential_ttl.count();
    return out;
}

boost::asio::awaitable<http::response> sip_routes::handle(http::request& req, std::string_view path,
                                                          http::server_context& ctx) {
    auto login = http::authenticate_request(req, ctx);
    if (!login) co_return http::error_response(auth::auth_error::not_authenticated, req.version());
    const verb method = req.method();
    if (path == base_path) {
        if (method != verb::get) co_return method_not_allowed("GET", req.version());
        if (auto wait = per_user_.acquire(std::to_string(login->userid)))
            co_return rate_limited(*wait, req.version());
        auto issued = browser_credentials(login->username);
        if (!issued) {
            spdlog::error("SIP credential failed: {}", message(issued.error()));
            co_return internal_error(req.version());
        }
        co_return http::json_response(status::ok, *issued, req.version());
    }
    if (path == devices_path) {
        if (method == verb::get) co_return co_await list_devices(req, login->userid, ctx);
        if (method == verb::post) co_return co_await create_device(req, *login, ctx);
        co_return method_not_allowed("GET, POST", req.version());
    }
    if (path.starts_with(devices_path) && path.size() > devices_path.size() &&
        path[devices_path.size()] == '/') {
        const std::string_view id = path.substr(devices_path.size() + 1);
        // An id of the wrong form names no device: the same answer as an unknown one.
        if (!valid_device_id(id)) co_return not_found(req.version());
        if (method != verb::delete_) co_return method_not_allowed("DELETE", req.version());
        co_return co_await remove_device(req, login->userid, id, ctx);
    }
    co_return not_found(req.version());
}

boost::asio::awaitable<http::response> sip_routes::list_devices(http::request& req,
                                                                std::int64_t userid,
                                                                http::server_context& ctx) {
    auto list = co_await core::offload(ctx.work_pool, [&] { return devices_.list(userid); });
    if (!list) co_return store_unavailable(req.version());
    json::array devices;
    for (const auto& d : *list) devices.emplace_back(device_json(d));
    json::object out;
    out["devices"] = std::move(devices);
    out["max"] = settings_.max_devices_per_user;
    co_return http::json_response(status::ok, out, req.version());
}

boost::asio::awaitable<http::response> sip_routes::create_device(http::request& req,
                                                                 const auth::login_session& login,
                                                                 http::server_context& ctx) {
    if (auto wait = per_user_.acquire(std::to_string(login.userid)))
        co_return rate_limited(*wait, req.version());
    if (!req[http::beast_http::field::content_type].starts_with("application/json")) {
        co_return http::error_response(status::unsupported_media_type, "unsupported_media_type",
                                       "Send the request body as application/json.", req.version());
    }
    if (req.body().size() > max_request_body) co_return invalid_label(req.version());
    json::parse_options options;
    options.max_depth = 4;
    boost::system::error_code ec;
    json::value body = json::parse(req.body(), ec, {}, options);
    if (ec || !body.is_object()) {
        co_return http::error_response(status::bad_request, "bad_request",
                                       "The request body is not a JSON object.", req.version());
    }
    const json::value* given = body.as_object().if_contains("label");
    if (given == nullptr || !given->is_string()) co_return invalid_label(req.version());
    auto label = normalise_label(std::string_view(given->as_string()));
    if (!label) co_return invalid_label(req.version());

    const std::int64_t now = clock_.unix_now();
    store::sip_device_record device;
    device.device_id = generate_device_id();
    device.userid = login.userid;
    device.label = std::move(*label);
    device.created_at = now;
    auto made = make_device_credential(secret_, login.username, device.device_id, now,
                                       settings_.device_ttl_days);
    if (!made) {
        spdlog::error("SIP device credential failed: {}", message(made.error()));
        co_return internal_error(req.version());
    }
    device.expires_at = made->expires_at;
    auto stored = co_await core::offload(
        ctx.work_pool, [&] { return devices_.create(device, settings_.max_devices_per_user); });
    if (!stored) {
        // not_found: the account was deleted while this request ran.
        if (stored.error() == store::store_error::not_found)
            co_return http::error_response(auth::auth_error::not_authenticated, req.version());
        co_return store_unavailable(req.version());
    }
    if (*stored == store::sip_device_creation::limit_reached) {
        co_return http::error_response(
            status::conflict, "too_many_devices",
            "You have as many phones as allowed; remove one before adding another.", req.version());
    }
    spdlog::info("SIP device added userid={} device={}", login.userid, device.device_id);

    json::array proxies;
    for (std::string_view transport : {"udp", "tcp"}) {
        json::object p;
        p["transport"] = transport;
        p["address"] = settings_.phone_proxy;
        proxies.emplace_back(std::move(p));
    }
    if (!settings_.phone_tls_proxy.empty()) {
        json::object p;
        p["transport"] = "tls";
        p["address"] = settings_.phone_tls_proxy;
        proxies.emplace_back(std::move(p));
    }
    json::object credentials;
    credentials["username"] = made->auth_username;
    credentials["password"] = made->password;
    credentials["user"] = made->user;
    credentials["domain"] = settings_.domain;
    credentials["aor"] = "sip:" + made->user + "@" + settings_.domain;
    credentials["proxies"] = std::move(proxies);
    json::object out;
    out["device"] = device_json(device);
    out["credentials"] = std::move(credentials);
    co_return http::json_response(status::created, out, req.version());
}

boost::asio::awaitable<http::response> sip_routes::remove_device(http::request& req,
                                                                 std::int64_t userid,
                                                                 std::string_view device_id,
                                                                 http::server_context& ctx) {
    auto removed =
        co_await core::offload(ctx.work_pool, [&] { return devices_.remove(userid, device_id); });
    if (!removed) {
        if (removed.error() == store::store_error::not_found) co_return not_found(req.version());
        co_return store_unavailable(req.version());
    }
    spdlog::info("SIP device revoked userid={} device={}", userid, device_id);
    co_return http::empty_response(status::no_content, req.version());
}

}  // namespace secms::sip

// The HTTP API of the SIP phone, /api/v1/sip and /api/v1/sip/devices[/<id>] (docs/api.md "SIP"):
// a logged-in user gets a short-lived credential for the VoIP tab's SIP.js, and manages the
// credentials of their own phones. Each phone has a row in the database that the SIP edge checks
// at every request: deleting it revokes the phone at once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/auth/rate_limiter.hpp"
#include "server/core/clock.hpp"
#include "server/core/result.hpp"
#include "server/http/server_context.hpp"
#include "server/sip/sip_credentials.hpp"
#include "server/store/sip_device_store.hpp"

namespace secms::sip {

struct sip_settings {
    std::string domain = "localhost";
    std::string websocket_url = "wss://localhost:7443";
    std::chrono::seconds credential_ttl{3600};  // browser credentials
    std::uint32_t device_ttl_days = 365;
    std::uint32_t max_devices_per_user = 10;
    std::string phone_proxy = "localhost:5060";      // UDP and TCP
    std::string phone_tls_proxy = "localhost:5061";  // empty: TLS not offered
    double per_user_burst = 10;                      // GET /api/v1/sip and device creation
    double per_user_per_minute = 20;
    std::size_t limiter_max_keys = 100'000;
};

// Refuses settings the server must not start with; the error says which.
core::status<sip_error> check_settings(const sip_settings& s);

// {"id","label","createdAt","expiresAt"}: what the device list shows (never a password).
boost::json::object device_json(const store::sip_device_record& d);

class sip_routes final : public http::api_module {
  public:
    // Checks the settings (check_settings) and lower-cases the domain.
    static core::result<std::unique_ptr<sip_routes>, sip_error> make(
        sip_settings settings, sip_secret secret, store::sip_device_store& devices,
        const core::clock& clock);

    boost::asio::awaitable<http::response> handle(http::request& req, std::string_view path,
                                                  http::server_context& ctx) override;

    // The credential answer of GET /api/v1/sip for an account (public for tests).
    core::result<boost::json::object, sip_error> browser_credentials(
        std::string_view account_name) const;

  private:
    sip_routes(sip_settings settings, sip_secret secret, store::sip_device_store& devices,
               const core::clock& clock);

    boost::asio::awaitable<http::response> list_devices(http::request& req, std::int64_t userid,
                                                        http::server_context& ctx);
    boost::asio::awaitable<http::response> create_device(http::request& req,
                                                         const auth::login_session& login,
                                                         http::server_context& ctx);
    boost::asio::awaitable<http::response> remove_device(http::request& req, std::int64_t userid,
                                                         std::string_view device_id,
                                                         http::server_context& ctx);

    sip_settings settings_;
    sip_secret secret_;
    store::sip_device_store& devices_;
    const core::clock& clock_;
    auth::rate_limiter per_user_;
};

}  // namespace secms::sip

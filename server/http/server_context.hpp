// Everything a request handler may use, wired once by the app.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <string>
#include <vector>

#include "server/auth/accounts.hpp"
#include "server/auth/login_sessions.hpp"
#include "server/auth/login_throttle.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/calls/turn_credentials.hpp"
#include "server/core/metrics.hpp"
#include "server/hsm/key_store.hpp"
#include "server/http/static_files.hpp"
#include "server/http/types.hpp"

namespace secms::http {

struct http_settings {
    // The origin users reach the service at, e.g. "https://localhost:8443".
    std::string public_origin;
    // Origins allowed on state-changing requests and WebSocket upgrades (public_origin included).
    std::vector<std::string> allowed_origins;
    // Whether /metrics answers non-loopback clients.
    bool metrics_public = false;
    // The pages' Content-Security-Policy when it is not the built-in one: with SIP on, connect-src
    // also names the SIP WebSocket's origin (page_content_security_policy). Empty: built-in.
    std::string content_security_policy = {};
};

struct rate_limiters {
    auth::rate_limiter& login_per_ip;
    auth::login_throttle& login_throttle;  // failed logins per (account, address) and per account
    auth::rate_limiter& register_per_ip;
};

struct server_context;

// A module answering one subtree of the API (the mail service, /api/v1/mail/…): dispatch hands
// it the requests under its prefix, after the Origin check; it authenticates them itself.
class api_module {
  public:
    virtual ~api_module() = default;
    virtual boost::asio::awaitable<response> handle(request& req, std::string_view path,
                                                    server_context& ctx) = 0;
};

struct server_context {
    http_settings settings;
    auth::account_service& accounts;
    auth::login_sessions& sessions;
    rate_limiters limits;
    core::metrics& metrics;
    const static_files& files;
    // Argon2id and other CPU-heavy work runs here, never on the I/O threads.
    boost::asio::thread_pool& work_pool;
    // The token holding the pepper, when there is one: /healthz probes it, and login answers
    // the same for every name while it fails.
    hsm::key_store* keys = nullptr;
    // GET /api/v1/turn: the credential issuer and its per-user limit (absent: 404).
    const calls::turn_issuer* turn = nullptr;
    auth::rate_limiter* turn_per_user = nullptr;
    // /api/v1/mail/…: the mail service's routes (absent: mail is off, 404 not_enabled).
    api_module* mail = nullptr;
    // /api/v1/sip and /api/v1/sip/…: the SIP phone's routes (absent: SIP is off, 404 not_enabled).
    api_module* sip = nullptr;
    // /api/v1/admin/…: the administration API (absent: 404).
    api_module* admin = nullptr;
};

bool origin_allowed(const http_settings& settings, std::string_view origin);

}  // namespace secms::http

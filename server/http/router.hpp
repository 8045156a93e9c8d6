// Routes one HTTP request to the JSON API, the health and metrics endpoints or the static files.
// WebSocket upgrades are taken by net/ before this point.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "server/http/server_context.hpp"
#include "server/http/types.hpp"

namespace secms::http {

struct client_info {
    std::string address;  // remote IP, for rate limits and logs
    bool loopback = false;
};

// Takes its arguments by value: a coroutine must not keep references to its caller's temporaries.
boost::asio::awaitable<response> handle_request(request req, client_info client,
                                                server_context& ctx);

// Validates the session cookie of a request (refreshing its idle timer).
std::optional<auth::login_session> authenticate_request(const request& req, server_context& ctx);

}  // namespace secms::http

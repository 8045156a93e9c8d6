// The network front of secms-server: the HTTPS listener (API, static files, WebSocket) and the
// plain-HTTP listener that only redirects to HTTPS.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "server/channel/channel_hub.hpp"
#include "server/http/server_context.hpp"
#include "server/net/limits.hpp"

namespace secms::net {

struct endpoints {
    boost::asio::ip::tcp::endpoint https;
    std::optional<boost::asio::ip::tcp::endpoint> http_redirect;
};

struct shared_state {
    http::server_context& http;
    channel::channel_hub& channels;
    const core::clock& clock;
    net_limits limits;
    boost::asio::ssl::context& tls;
};

class server {
  public:
    server(boost::asio::io_context& io, shared_state state);
    ~server();

    // Binds and starts accepting. On failure returns false with a sentence in `error`.
    bool start(const endpoints& where, std::string& error);
    // Stops accepting and closes every WebSocket (going away); requests in flight finish.
    void stop();

    boost::asio::ip::tcp::endpoint https_endpoint() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace secms::net

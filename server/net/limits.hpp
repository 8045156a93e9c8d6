// Size limits and timeouts given to every stream when it is created (DESIGN.md §5).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace secms::net {

struct net_limits {
    std::size_t max_connections = 1024;  // HTTPS connections open at once
    // Connections open at once from one IPv4 address or IPv6 /64, both ports together.
    std::size_t max_connections_per_ip = 64;
    // The plain-HTTP redirect port's own budget, apart from the HTTPS one.
    std::size_t max_redirect_connections = 64;
    std::uint32_t max_header_bytes = 8 * 1024;
    std::uint64_t max_body_bytes = 64 * 1024;
    // POST /api/v1/mail/append and /send only (a whole message); 0: those get max_body_bytes.
    std::uint64_t max_mail_body_bytes = 0;
    // TLS handshake, counted from the accept (so a socket that never sends a byte is closed
    // too); the WebSocket handshake; a whole request on the redirect port.
    std::chrono::seconds handshake_timeout{5};
    std::chrono::seconds read_timeout{30};  // one whole request, once it started
    // A mail body (the two paths above) that, after min_body_rate_grace, has arrived slower on
    // average than min_body_rate_bytes_per_s is ended (408, or closed when nothing arrives):
    // a trickling upload cannot hold its place in the large-body budget for the whole timeout.
    std::uint64_t min_body_rate_bytes_per_s = 64 * 1024;
    std::chrono::seconds min_body_rate_grace{10};
    std::chrono::seconds idle_timeout{60};  // keep-alive wait between requests
    std::chrono::seconds write_timeout{30};
    std::size_t ws_max_message_bytes = 64 * 1024;
    std::chrono::seconds ws_idle_timeout{60};  // a ping is sent after half of it
    std::size_t ws_queue_messages = 1024;      // per connection; past it the peer is dropped
    std::size_t ws_queue_bytes = 4 * 1024 * 1024;
};

}  // namespace secms::net

// What the channel module needs from a connected client: a way to send it a message and to close
// it. Implemented by net's WebSocket session; a test double in unit tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace secms::channel {

// WebSocket close codes of the application protocol (RFC 6455 §7.4.2: 4000–4999 are private).
enum class close_reason : std::uint16_t {
    normal = 1000,
    policy_violation = 1008,  // a malformed or forbidden message
    too_big = 1009,
    going_away = 1001,        // server shutdown
    login_ended = 4401,       // logout, password change, expiry or account deletion
    too_slow = 4408,          // the client did not read fast enough; its queue overflowed
};

class peer {
public:
    virtual ~peer() = default;
    // Queues a text message; never blocks. Thread-safe.
    virtual void send_text(std::shared_ptr<const std::string> message) = 0;
    // Closes the connection with a code and a short reason. Thread-safe.
    virtual void close(close_reason code, std::string_view reason) = 0;
};

}  // namespace secms::channel

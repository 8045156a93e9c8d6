// What the channel module needs from a connected client: a way to send it messages and to close
// it. Implemented by net's WebSocket session; a recording double in unit tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "server/store/user_store.hpp"

namespace secms::channel {

// WebSocket close codes of the application protocol (RFC 6455 §7.4.2: 4000–4999 are private).
enum class close_reason : std::uint16_t {
    normal = 1000,
    going_away = 1001,        // server shutdown
    policy_violation = 1008,  // a malformed or forbidden message
    too_big = 1009,
    login_ended = 4401,  // logout, password change, expiry or account deletion
    too_slow = 4408,     // the client did not read fast enough; its queue overflowed
    superseded = 4409,   // a newer app WebSocket of the same account took over
};

// Messages are shared, immutable and may be queued for many peers at once.
using message_ptr = std::shared_ptr<const std::string>;

class peer {
  public:
    virtual ~peer() = default;
    // Queue a message; never block. Thread-safe.
    virtual void send_text(message_ptr message) = 0;
    virtual void send_binary(message_ptr message) = 0;
    // True while this peer's write queue is more than half full (relay backpressure: senders
    // towards it pause). Thread-safe.
    virtual bool congested() const = 0;
    // Close the connection with a code and a short reason. Thread-safe.
    virtual void close(close_reason code, std::string_view reason) = 0;
};

// Who is behind a connection, as the login and the socket tell.
struct member_info {
    member_info() = default;
    member_info(std::int64_t id, std::string name, std::string login_session,
                store::role account_role = store::role::user, std::string address = {},
                std::string upgrade_origin = {})
        : userid(id),
          username(std::move(name)),
          login_session_id(std::move(login_session)),
          role(account_role),
          remote_address(std::move(address)),
          origin(std::move(upgrade_origin)) {}

    std::int64_t userid = 0;
    std::string username;
    std::string login_session_id;
    store::role role = store::role::user;  // the account's role at login
    std::string remote_address;            // the client's IP address, shown to moderators only
    // The Origin of the WebSocket upgrade (checked against the allowed origins): the origin the
    // page runs on, which its possession challenges name. Empty: the public origin.
    std::string origin;
};

// Where a relayed frame went, for the caller's backpressure: a receiver to wait for while it is
// congested, or none.
struct relay_target {
    std::shared_ptr<peer> receiver;
};

}  // namespace secms::channel

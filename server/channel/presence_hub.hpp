// Presence: who is online. A user with several tabs (several WebSockets) counts once; everyone
// connected receives the full list whenever the set of online users changes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/channel/peer.hpp"
#include "server/core/metrics.hpp"

namespace secms::channel {

struct member_info {
    std::int64_t userid = 0;
    std::string username;
    std::string login_session_id;
};

struct online_user {
    std::int64_t userid = 0;
    std::string username;
};

class presence_hub {
public:
    explicit presence_hub(core::metrics& metrics);

    // Registers a connection and sends the current list to everyone (or to the newcomer only,
    // when the user was online already in another tab).
    void join(const std::shared_ptr<peer>& p, member_info info);
    void leave(const peer* p);

    // Closes every connection opened under that login session (logout, expiry, password change).
    void end_login_session(const std::string& login_session_id);
    // Closes every connection of a user (account deleted or disabled).
    void end_user(std::int64_t userid);
    // Closes every connection (shutdown).
    void close_all(close_reason code, std::string_view reason);

    // Sorted by username.
    std::vector<online_user> online() const;
    std::size_t connection_count() const;

private:
    struct connection {
        std::weak_ptr<peer> handle;
        member_info info;
    };
    std::shared_ptr<const std::string> presence_message_locked() const;
    void broadcast_locked(const std::shared_ptr<const std::string>& message);
    std::size_t distinct_users_locked() const;

    core::metrics& metrics_;
    mutable std::mutex mutex_;
    std::unordered_map<const peer*, connection> connections_;
};

// {"type":"presence","online":[{"userid":1,"username":"alice"},…]}
std::string presence_message(const std::vector<online_user>& users);

}  // namespace secms::channel

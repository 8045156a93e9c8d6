// Per-user rate limits on the JSON control messages of the application WebSocket. Every message
// type draws from one of a few token buckets (a table maps type → bucket and cost), kept per
// user across all of that user's connections: opening more tabs buys no more requests. A control
// message can make the server send much more than it received (a room join tells every member),
// so the rate of each kind is what bounds that amplification over time.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "server/core/clock.hpp"

namespace secms::channel {

// The buckets. Defaults leave the web client room for its bursts: on reconnect it rejoins every
// room it was in (at most chat_max_rooms_per_user, 32) and, in a room, asks each room-mate for a
// channel once (up to a full room of 256).
enum class control_bucket : std::uint8_t {
    membership,  // room_join, room_leave, room_invite, room_uninvite: fan out to a whole room
    query,       // room_list, room_who, user_whereis, mod_*: a reply to the sender only
    channel,     // channel_request, channel_accept, channel_reject, channel_end
    other,       // ping, certificate_submit, certificate_proof, unknown types
};
inline constexpr std::size_t control_bucket_count = 4;

struct bucket_limit {
    double burst = 10;       // tokens at most (requests allowed at once)
    double per_minute = 10;  // steady refill
};

struct control_limits {
    bucket_limit membership{40, 30};
    bucket_limit query{30, 60};
    bucket_limit channel{300, 300};
    bucket_limit other{30, 60};

    const bucket_limit& of(control_bucket b) const noexcept;
};

struct control_cost {
    control_bucket bucket = control_bucket::other;
    double cost = 1;
};
// What a control message of this type costs (the table in control_limits.cpp).
control_cost cost_of(std::string_view type) noexcept;

// Not thread-safe: the channel hub calls it under its own lock.
class control_limiter {
  public:
    control_limiter(control_limits limits, const core::clock& clock)
        : limits_(limits), clock_(clock) {}

    // Takes the cost of `type` from the user's bucket. nullopt when admitted; otherwise the
    // whole seconds until it would be (at least 1), and nothing is taken.
    std::optional<std::int64_t> admit(std::int64_t userid, std::string_view type);
    // Forgets users whose buckets are all full again (they are as good as new).
    void sweep();
    std::size_t size() const noexcept { return users_.size(); }

  private:
    struct bucket_state {
        double tokens = 0;
        core::steady_time updated{};
    };
    using user_state = std::array<bucket_state, control_bucket_count>;
    double refill(bucket_state& b, const bucket_limit& limit, core::steady_time now) const;

    control_limits limits_;
    const core::clock& clock_;
    std::unordered_map<std::int64_t, user_state> users_;
};

}  // namespace secms::channel

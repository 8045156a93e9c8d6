#include "server/channel/control_limits.hpp"

#include <algorithm>
#include <cmath>

namespace secms::channel {

namespace {

struct type_cost {
    std::string_view type;
    control_cost cost;
};

// Every control message type the server knows, with its bucket and cost. A type that is not
// here (a typo, a future type) costs 1 from `other`, so unknown types are limited too.
constexpr type_cost table[] = {
    {"ping", {control_bucket::other, 1}},
    {"certificate_submit", {control_bucket::other, 1}},
    {"certificate_proof", {control_bucket::other, 1}},
    {"channel_request", {control_bucket::channel, 1}},
    {"channel_accept", {control_bucket::channel, 1}},
    {"channel_reject", {control_bucket::channel, 1}},
    {"channel_end", {control_bucket::channel, 1}},
    {"room_join", {control_bucket::membership, 1}},
    {"room_leave", {control_bucket::membership, 1}},
    {"room_invite", {control_bucket::membership, 1}},
    {"room_uninvite", {control_bucket::membership, 1}},
    // The list can be long (up to chat max_listed entries): it costs more than a small reply.
    {"room_list", {control_bucket::query, 2}},
    {"room_who", {control_bucket::query, 1}},
    {"user_whereis", {control_bucket::query, 1}},
    // A kick removes the user from every room they are in: each of those rooms is told.
    {"mod_kick", {control_bucket::membership, 4}},
    {"mod_bans", {control_bucket::query, 2}},
    {"mod_unban", {control_bucket::query, 1}},
    {"mod_whois", {control_bucket::query, 1}},
};

}  // namespace

const bucket_limit& control_limits::of(control_bucket b) const noexcept {
    switch (b) {
        case control_bucket::membership:
            return membership;
        case control_bucket::query:
            return query;
        case control_bucket::channel:
            return channel;
        case control_bucket::other:
            return other;
    }
    return other;
}

control_cost cost_of(std::string_view type) noexcept {
    for (const auto& entry : table) {
        if (entry.type == type) return entry.cost;
    }
    return {control_bucket::other, 1};
}

double control_limiter::refill(bucket_state& b, const bucket_limit& limit,
                               core::steady_time now) const {
    const double minutes = std::chrono::duration<double, std::ratio<60>>(now - b.updated).count();
    b.tokens = std::min(limit.burst, b.tokens + std::max(0.0, minutes) * limit.per_minute);
    b.updated = now;
    return b.tokens;
}

std::optional<std::int64_t> control_limiter::admit(std::int64_t userid, std::string_view type) {
    const control_cost c = cost_of(type);
    const bucket_limit& limit = limits_.of(c.bucket);
    const auto now = clock_.now();
    auto [it, fresh] = users_.try_emplace(userid);
    if (fresh) {
        for (std::size_t i = 0; i < control_bucket_count; ++i) {
            it->second[i] = {limits_.of(static_cast<control_bucket>(i)).burst, now};
        }
    }
    bucket_state& b = it->second[static_cast<std::size_t>(c.bucket)];
    if (refill(b, limit, now) >= c.cost) {
        b.tokens -= c.cost;
        return std::nullopt;
    }
    // A bucket that never refills (per_minute 0) or can never hold the cost: a long wait.
    if (limit.per_minute <= 0 || limit.burst < c.cost) return 3600;
    const double seconds = (c.cost - b.tokens) * 60.0 / limit.per_minute;
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(seconds)));
}

void control_limiter::sweep() {
    const auto now = clock_.now();
    for (auto it = users_.begin(); it != users_.end();) {
        bool full = true;
        for (std::size_t i = 0; i < control_bucket_count; ++i) {
            const bucket_limit& limit = limits_.of(static_cast<control_bucket>(i));
            if (refill(it->second[i], limit, now) < limit.burst) full = false;
        }
        it = full ? users_.erase(it) : std::next(it);
    }
}

}  // namespace secms::channel

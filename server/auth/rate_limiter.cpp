#include "server/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace secms::auth {

rate_limiter::rate_limiter(rate_limit limit, const core::clock& clock)
    : limit_(limit), clock_(clock) {}

std::optional<std::chrono::seconds> rate_limiter::acquire(std::string_view key) {
    limiter_key k = make_limiter_key(key);
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    auto it = buckets_.find(k);
    if (it == buckets_.end()) {
        if (buckets_.size() >= limit_.max_keys && !lru_.empty()) {
            buckets_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(k);
        it = buckets_.emplace(k, bucket{limit_.burst, now, lru_.begin()}).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
    }
    bucket& b = it->second;
    double elapsed_min = std::chrono::duration<double, std::ratio<60>>(now - b.updated).count();
    b.tokens = std::min(limit_.burst, b.tokens + elapsed_min * limit_.per_minute);
    b.updated = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    double wait_s = (1.0 - b.tokens) * 60.0 / limit_.per_minute;
    return std::chrono::seconds(static_cast<long>(std::ceil(wait_s)));
}

void rate_limiter::reset(std::string_view key) {
    limiter_key k = make_limiter_key(key);
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(k);
    if (it == buckets_.end()) return;
    lru_.erase(it->second.lru);
    buckets_.erase(it);
}

std::size_t rate_limiter::size() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

}  // namespace secms::auth

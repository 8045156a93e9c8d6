// Token-bucket rate limits keyed by a string (an address key, see client_address.hpp). Memory is
// bounded whatever the keys: each is stored as a fixed-size keyed hash (limiter_key.hpp), at most
// `max_keys` buckets are kept, and when full the bucket idle longest is dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/auth/limiter_key.hpp"
#include "server/core/clock.hpp"

namespace secms::auth {

struct rate_limit {
    double burst = 10;       // attempts allowed at once
    double per_minute = 10;  // steady refill
    std::size_t max_keys = 100'000;
};

class rate_limiter {
  public:
    rate_limiter(rate_limit limit, const core::clock& clock);

    // Takes one token for `key`. nullopt when allowed; otherwise how long until one is free.
    std::optional<std::chrono::seconds> acquire(std::string_view key);

    // Forget a key (for example after a successful login, the account's failures are cleared).
    void reset(std::string_view key);

    std::size_t size() const;
    // Bytes of key material held per bucket (in the table and in the recency list).
    static constexpr std::size_t key_bytes = sizeof(limiter_key);

  private:
    struct bucket {
        double tokens;
        core::steady_time updated;
        std::list<limiter_key>::iterator lru;
    };
    rate_limit limit_;
    const core::clock& clock_;
    mutable std::mutex mutex_;
    std::unordered_map<limiter_key, bucket, limiter_key_hash> buckets_;
    std::list<limiter_key> lru_;  // front = most recently used
};

}  // namespace secms::auth

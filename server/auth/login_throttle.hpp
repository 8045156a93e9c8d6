// Failed-login throttling as the OWASP Authentication Cheat Sheet recommends ("Account
// Lockout"): slow the guesser down, never lock the owner out.
//
// - Per (account, client) — the client is an address key (client_address.hpp) or a login session —
//   the first `free_failures` failures cost nothing; after that each attempt must wait
//   base_delay · 2^(failures − free_failures), capped at `max_delay` (answered 429 + Retry-After).
//   Failures from one client therefore never hold back the owner on another client.
// - Per account, over all clients, past `account_ceiling` failures in the window every attempt is
//   slowed by `account_slowdown` and never refused: a botnet spreading guesses over many
//   addresses is slowed, yet the right password still logs in.
// - A correct password forgets the (account, client) failures; an attempt that ends for any other
//   reason than a wrong password (released) costs nothing.
//
// Keys are fixed-size keyed hashes (limiter_key.hpp) and each table holds at most `max_keys`
// entries (the one idle longest is dropped), so chosen names cannot grow memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "server/auth/limiter_key.hpp"
#include "server/core/clock.hpp"

namespace secms::auth {

struct throttle_settings {
    std::uint32_t free_failures = 5;
    std::chrono::seconds base_delay{1};
    std::chrono::seconds max_delay{300};
    std::uint32_t account_ceiling = 100;
    std::chrono::milliseconds account_slowdown{1000};
    std::chrono::seconds window{3600};  // failures older than this are forgotten
    std::size_t max_keys = 100'000;
};

class login_throttle {
  public:
    struct decision {
        std::optional<std::chrono::seconds> refused_for;  // answer 429 with this Retry-After
        std::chrono::milliseconds slow_down{0};           // wait this long first; never refuses
    };

    login_throttle(throttle_settings settings, const core::clock& clock);

    // Before the password is checked. `account` is the normalised account name (username_key).
    // An allowed attempt counts as a failure of the pair at once, so that concurrent guesses
    // cannot all pass before the first one fails; succeeded() takes it back.
    decision begin(std::string_view account, std::string_view client);
    // The password was wrong: counts towards the account's ceiling.
    void failed(std::string_view account);
    // The password was right: the (account, client) failures are forgotten.
    void succeeded(std::string_view account, std::string_view client);
    // The attempt ended without telling whether the password was right (a weak new password, an
    // outage, a full login table): the failure begin() counted is taken back, earlier ones stay.
    void released(std::string_view account, std::string_view client);

    // Entries held, pairs plus accounts (for tests and bounds).
    std::size_t size() const;
    static constexpr std::size_t key_bytes = sizeof(limiter_key);

  private:
    struct entry {
        std::uint32_t failures = 0;
        core::steady_time last{};
        std::list<limiter_key>::iterator lru;
    };
    struct table {
        std::unordered_map<limiter_key, entry, limiter_key_hash> entries;
        std::list<limiter_key> lru;  // front = most recently used
        entry& get(const limiter_key& k, std::size_t max_keys);
        void erase(const limiter_key& k);
    };
    void forget_if_old(entry& e, core::steady_time now) const;
    std::chrono::seconds delay_after(std::uint32_t failures) const;

    throttle_settings settings_;
    const core::clock& clock_;
    mutable std::mutex mutex_;
    table pairs_;
    table accounts_;
};

}  // namespace secms::auth

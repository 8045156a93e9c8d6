#include "server/auth/login_throttle.hpp"

#include <algorithm>

namespace secms::auth {

login_throttle::login_throttle(throttle_settings settings, const core::clock& clock)
    : settings_(settings), clock_(clock) {}

login_throttle::entry& login_throttle::table::get(const limiter_key& k, std::size_t max_keys) {
    auto it = entries.find(k);
    if (it != entries.end()) {
        lru.splice(lru.begin(), lru, it->second.lru);
        return it->second;
    }
    if (entries.size() >= std::max<std::size_t>(1, max_keys) && !lru.empty()) {
        entries.erase(lru.back());
        lru.pop_back();
    }
    lru.push_front(k);
    entry e;
    e.lru = lru.begin();
    return entries.emplace(k, e).first->second;
}

void login_throttle::table::erase(const limiter_key& k) {
    auto it = entries.find(k);
    if (it == entries.end()) return;
    lru.erase(it->second.lru);
    entries.erase(it);
}

void login_throttle::forget_if_old(entry& e, core::steady_time now) const {
    if (e.failures != 0 && now - e.last > settings_.window) e.failures = 0;
}

std::chrono::seconds login_throttle::delay_after(std::uint32_t failures) const {
    if (failures < settings_.free_failures) return std::chrono::seconds(0);
    std::uint32_t doublings = std::min<std::uint32_t>(failures - settings_.free_failures, 30);
    auto delay = settings_.base_delay * (std::int64_t{1} << doublings);
    return std::min(delay, settings_.max_delay);
}

login_throttle::decision login_throttle::begin(std::string_view account, std::string_view client) {
    limiter_key pair_key = make_limiter_key(account, client);
    limiter_key account_key = make_limiter_key(account);
    auto now = clock_.now();
    decision out;
    std::lock_guard lock(mutex_);

    entry& pair = pairs_.get(pair_key, settings_.max_keys);
    forget_if_old(pair, now);
    auto wait = delay_after(pair.failures);
    if (wait.count() > 0 && now - pair.last < wait) {
        auto left = std::chrono::ceil<std::chrono::seconds>(wait - (now - pair.last));
        out.refused_for = std::max(left, std::chrono::seconds(1));
        return out;
    }
    ++pair.failures;
    pair.last = now;

    if (auto it = accounts_.entries.find(account_key); it != accounts_.entries.end()) {
        forget_if_old(it->second, now);
        if (it->second.failures >= settings_.account_ceiling) {
            out.slow_down = settings_.account_slowdown;
        }
    }
    return out;
}

void login_throttle::failed(std::string_view account) {
    limiter_key account_key = make_limiter_key(account);
    auto now = clock_.now();
    std::lock_guard lock(mutex_);
    entry& e = accounts_.get(account_key, settings_.max_keys);
    forget_if_old(e, now);
    if (e.failures < UINT32_MAX) ++e.failures;
    e.last = now;
}

void login_throttle::succeeded(std::string_view account, std::string_view client) {
    limiter_key pair_key = make_limiter_key(account, client);
    std::lock_guard lock(mutex_);
    pairs_.erase(pair_key);
}

void login_throttle::released(std::string_view account, std::string_view client) {
    limiter_key pair_key = make_limiter_key(account, client);
    std::lock_guard lock(mutex_);
    auto it = pairs_.entries.find(pair_key);
    if (it == pairs_.entries.end()) return;
    if (it->second.failures > 1) {
        --it->second.failures;
    } else {
        pairs_.erase(pair_key);
    }
}

std::size_t login_throttle::size() const {
    std::lock_guard lock(mutex_);
    return pairs_.entries.size() + accounts_.entries.size();
}

}  // namespace secms::auth

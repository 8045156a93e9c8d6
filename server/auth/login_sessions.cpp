#include "server/auth/login_sessions.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "server/core/secure_bytes.hpp"

namespace secms::auth {

login_sessions::login_sessions(session_timeouts timeouts, const core::clock& clock)
    : timeouts_(timeouts), clock_(clock) {}

void login_sessions::on_ended(ended_callback cb) {
    std::lock_guard lock(mutex_);
    on_ended_ = std::move(cb);
}

std::string login_sessions::id_of(std::string_view token) const {
    std::array<std::uint8_t, 32> digest{};
    crypto_generichash(digest.data(), digest.size(),
                       reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr,
                       0);
    return core::to_hex(digest);
}

bool login_sessions::expired(const login_session& s, core::steady_time now) const {
    return now - s.last_seen > timeouts_.idle || now - s.created > timeouts_.absolute;
}

void login_sessions::notify(const std::vector<std::string>& ended) {
    ended_callback cb;
    {
        std::lock_guard lock(mutex_);
        cb = on_ended_;
    }
    if (!cb) return;
    for (const auto& id : ended) cb(id);
}

new_login login_sessions::create(std::int64_t userid, std::string username, store::role role) {
    return *create(userid, std::move(username), role, begin_login());
}

login_ticket login_sessions::begin_login() const {
    std::lock_guard lock(mutex_);
    return {epoch_, clock_.now()};
}

void login_sessions::erase_locked(std::unordered_map<std::string, login_session>::iterator it) {
    if (auto u = by_user_.find(it->second.userid); u != by_user_.end()) {
        std::erase(u->second, it->first);
        if (u->second.empty()) by_user_.erase(u);
    }
    sessions_.erase(it);
}

core::result<new_login, login_refusal> login_sessions::create(std::int64_t userid,
                                                              std::string username,
                                                              store::role role,
                                                              const login_ticket& ticket) {
    // 32 random bytes: far above the 128 bits OWASP asks of a session id.
    std::string token = core::random_token(32);
    auto now = clock_.now();
    login_session s{id_of(token), userid, std::move(username), role, now, now};
    std::vector<std::string> evicted;
    bool full = false;
    {
        std::lock_guard lock(mutex_);
        // Checked under the lock end_all_for_user takes: either the end came first and is seen
        // here, or this session exists before the end runs and is ended by it.
        if (now - ticket.issued > max_login_flight) {
            return core::fail(login_refusal::ended_meanwhile);
        }
        if (auto it = ended_at_.find(userid);
            it != ended_at_.end() && it->second.epoch > ticket.epoch) {
            return core::fail(login_refusal::ended_meanwhile);
        }
        // Bound memory: a user with too many sessions loses its own oldest.
        if (auto mine = by_user_.find(userid);
            mine != by_user_.end() && mine->second.size() >= timeouts_.max_per_user) {
            auto oldest = std::min_element(
                mine->second.begin(), mine->second.end(), [&](const auto& a, const auto& b) {
                    return sessions_.at(a).created < sessions_.at(b).created;
                });
            evicted.push_back(*oldest);
            erase_locked(sessions_.find(*oldest));
        }
        // A full table loses its expired entries; if it is still full, this login is refused:
        // ending another user's login to make room would let many accounts log anyone out.
        if (sessions_.size() >= timeouts_.max_sessions) {
            for (auto it = sessions_.begin(); it != sessions_.end();) {
                if (expired(it->second, now)) {
                    evicted.push_back(it->first);
                    auto next = std::next(it);
                    erase_locked(it);
                    it = next;
                } else {
                    ++it;
                }
            }
        }
        full = sessions_.size() >= timeouts_.max_sessions;
        if (!full) {
            by_user_[userid].push_back(s.id);
            sessions_.emplace(s.id, s);
            ++logins_changed_;
        }
    }
    notify(evicted);
    if (full) {
        core::wipe(token.data(), token.size());
        return core::fail(login_refusal::table_full);
    }
    return new_login{std::move(token), std::move(s)};
}

std::optional<login_session> login_sessions::touch(std::string_view cookie_token) {
    if (cookie_token.empty() || cookie_token.size() > 128) return std::nullopt;
    std::string id = id_of(cookie_token);
    auto now = clock_.now();
    bool was_expired = false;
    std::optional<login_session> out;
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return std::nullopt;
        if (expired(it->second, now)) {
            erase_locked(it);
            was_expired = true;
        } else {
            it->second.last_seen = now;
            out = it->second;
        }
    }
    if (was_expired) notify({id});
    return out;
}

std::optional<login_session> login_sessions::find(std::string_view session_id) const {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(std::string(session_id));
    if (it == sessions_.end() || expired(it->second, clock_.now())) return std::nullopt;
    return it->second;
}

bool login_sessions::refresh(std::string_view session_id) {
    auto now = clock_.now();
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(std::string(session_id));
    if (it == sessions_.end() || expired(it->second, now)) return false;
    it->second.last_seen = now;
    return true;
}

bool login_sessions::end(std::string_view cookie_token) {
    std::string id = id_of(cookie_token);
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return false;
        erase_locked(it);
    }
    notify({id});
    return true;
}

std::size_t login_sessions::end_all_for_user(std::int64_t userid, std::string_view keep_id) {
    std::vector<std::string> ended;
    {
        std::lock_guard lock(mutex_);
        ended_at_[userid] = {++epoch_, clock_.now()};
        if (auto mine = by_user_.find(userid); mine != by_user_.end()) {
            for (const auto& id : mine->second) {
                if (id != keep_id) ended.push_back(id);
            }
        }
        for (const auto& id : ended) erase_locked(sessions_.find(id));
    }
    notify(ended);
    return ended.size();
}

void login_sessions::update_role(std::int64_t userid, store::role role) {
    std::lock_guard lock(mutex_);
    // A login in flight read the account (and its role) before this change: it must not create
    // a session carrying the old role, so it is refused and retried, reading the role anew.
    ended_at_[userid] = {++epoch_, clock_.now()};
    ++logins_changed_;
    auto mine = by_user_.find(userid);
    if (mine == by_user_.end()) return;
    for (const auto& id : mine->second) sessions_.at(id).role = role;
}

std::uint64_t login_sessions::logins_changed() const {
    std::lock_guard lock(mutex_);
    return logins_changed_;
}

std::size_t login_sessions::count_for_user(std::int64_t userid) const {
    auto now = clock_.now();
    std::lock_guard lock(mutex_);
    auto mine = by_user_.find(userid);
    if (mine == by_user_.end()) return 0;
    return static_cast<std::size_t>(
        std::count_if(mine->second.begin(), mine->second.end(),
                      [&](const std::string& id) { return !expired(sessions_.at(id), now); }));
}

std::vector<std::pair<std::int64_t, store::role>> login_sessions::users_logged_in() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::int64_t, store::role>> out;
    out.reserve(by_user_.size());
    for (const auto& [userid, ids] : by_user_) {
        // Every session is looked at, not only the first: one with a stale role must be seen.
        const std::size_t first = out.size();
        for (const auto& id : ids) {
            const store::role role = sessions_.at(id).role;
            if (std::none_of(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                             [&](const auto& e) { return e.second == role; }))
                out.emplace_back(userid, role);
        }
    }
    return out;
}

void login_sessions::sweep() {
    std::vector<std::string> ended;
    auto now = clock_.now();
    {
        std::lock_guard lock(mutex_);
        // A ticket older than max_login_flight is refused anyway: its marks are not needed.
        std::erase_if(ended_at_,
                      [&](const auto& e) { return now - e.second.when > max_login_flight; });
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            auto next = std::next(it);
            if (expired(it->second, now)) {
                ended.push_back(it->first);
                erase_locked(it);
            }
            it = next;
        }
    }
    notify(ended);
}

std::size_t login_sessions::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace secms::auth

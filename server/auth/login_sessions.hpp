// Login sessions: volatile, in memory only. The cookie carries a 256-bit random token; the server
// keeps only its BLAKE2b hash, so a memory dump does not hand out valid cookies, and the hash
// (hex) doubles as the session's internal id.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/core/clock.hpp"
#include "server/core/result.hpp"
#include "server/store/user_store.hpp"

namespace secms::auth {

struct session_timeouts {
    std::chrono::seconds idle{30 * 60};
    std::chrono::seconds absolute{12 * 60 * 60};
    // Logins held in all: when the table is full of live logins a new one is refused, never
    // made room for by ending someone else's (accounts enough could otherwise log anyone out).
    std::size_t max_sessions = 100'000;
    // One account's logins: a new one ends that account's oldest.
    std::size_t max_per_user = 32;
};

// Why create() made no login.
enum class login_refusal {
    ended_meanwhile,  // the user's logins were ended, or its role changed, after the ticket:
                      // check the password again (and read the account as stored now)
    table_full,       // max_sessions live logins are held: try again later (503)
};

struct login_session {
    std::string id;  // hash of the cookie token, hex; never the token itself
    std::int64_t userid = 0;
    std::string username;
    store::role role = store::role::user;
    core::steady_time created{};
    core::steady_time last_seen{};
};

// Taken before a login reads the password hash; a session is created from it only if none of the
// user's logins were ended (password change, account deletion) and its role was not changed after
// it was taken. Without it a login that verified the old hash (or read the old role) could create
// its session just after the change ended (or updated) the others, and survive the change.
struct login_ticket {
    std::uint64_t epoch = 0;
    core::steady_time issued{};
};

// A login that takes longer than this between ticket and session is refused (and end_all_for_user
// needs to remember its epochs only this long).
inline constexpr std::chrono::minutes max_login_flight{5};

struct new_login {
    std::string cookie_token;  // goes to the client once, in Set-Cookie
    login_session session;
};

class login_sessions {
  public:
    using ended_callback = std::function<void(const std::string& session_id)>;

    login_sessions(session_timeouts timeouts, const core::clock& clock);

    // Called (outside the lock) for every session that ends: logout, expiry, password change.
    void on_ended(ended_callback cb);

    // For tests and tools: a login without a ticket; the table must have room.
    new_login create(std::int64_t userid, std::string username, store::role role);
    // Call before reading the password hash of a login.
    login_ticket begin_login() const;
    // A new login, unless the user's logins were ended after `ticket` was taken (ended_meanwhile:
    // verify the password again, against the hash stored now) or the table is full of live logins
    // (table_full; expired ones are dropped first).
    core::result<new_login, login_refusal> create(std::int64_t userid, std::string username,
                                                  store::role role, const login_ticket& ticket);

    // Validates the token, enforces both timeouts, refreshes last_seen.
    std::optional<login_session> touch(std::string_view cookie_token);

    // Looks a session up by id without refreshing it.
    std::optional<login_session> find(std::string_view session_id) const;
    // Counts activity on a long-lived WebSocket as use of its login (idle timer restarts);
    // false when the session has ended or expired.
    bool refresh(std::string_view session_id);

    // Ends one session; true if it existed.
    bool end(std::string_view cookie_token);
    // Ends every session of a user except `keep_id` (if given), and every login of the user still
    // in flight (see login_ticket); returns how many sessions ended.
    std::size_t end_all_for_user(std::int64_t userid, std::string_view keep_id = {});
    // Updates the role of every live session of the user after an administrator changes it, and
    // refuses (ended_meanwhile) the user's logins in flight, which read the role before the change.
    void update_role(std::int64_t userid, store::role role);
    // How many live sessions a user holds (the admin user list).
    std::size_t count_for_user(std::int64_t userid) const;
    // Every user holding a session, once per distinct role its sessions carry (normally one; a
    // user listed twice holds sessions of different roles). The account watch re-reads them when
    // the store changes behind the server.
    std::vector<std::pair<std::int64_t, store::role>> users_logged_in() const;
    // Moves whenever a session is created or a role changes: the account watch looks at the
    // logged-in users again only when this or the store moved, not on every pass.
    std::uint64_t logins_changed() const;
    // Drops expired sessions; the app calls it periodically.
    void sweep();

    std::size_t size() const;

  private:
    std::string id_of(std::string_view token) const;
    bool expired(const login_session& s, core::steady_time now) const;
    void notify(const std::vector<std::string>& ended);
    // Removes a session from the table and from its user's index.
    void erase_locked(std::unordered_map<std::string, login_session>::iterator it);

    session_timeouts timeouts_;
    const core::clock& clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, login_session> sessions_;
    // userid → ids of its sessions (at most max_per_user): a login, a logout of all and a role
    // change look at one user's sessions, never scan the table.
    std::unordered_map<std::int64_t, std::vector<std::string>> by_user_;
    struct ended_mark {
        std::uint64_t epoch = 0;
        core::steady_time when{};
    };
    std::uint64_t epoch_ = 0;           // bumped by end_all_for_user and update_role
    std::uint64_t logins_changed_ = 0;  // bumped by every new session and role change
    // userid → when its logins were last ended or its role changed: tickets older are refused.
    std::unordered_map<std::int64_t, ended_mark> ended_at_;
    ended_callback on_ended_;
};

}  // namespace secms::auth

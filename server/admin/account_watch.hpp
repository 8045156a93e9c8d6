// The account watch: makes changes that others commit to the user database (the `user`
// subcommands run while the server runs) reach the running server. It polls SQLite's
// PRAGMA data_version on the server's own connection (cheap: no table is read); when another
// connection has committed since the last poll, it reads the users' change counter (one row,
// moved by triggers on a role, disabled flag or deletion), and only when that moved it re-reads
// the users that hold logins, ends the logins of disabled and deleted ones (their WebSockets
// close through login_sessions::on_ended) and gives every live login of a user a changed role
// (login_sessions::update_role, which also refuses that user's logins in flight). Users that log
// in between two polls, and users whose sessions carry different roles, are read once too, so a
// login whose password check overlapped the change cannot outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "server/auth/login_sessions.hpp"
#include "server/store/user_store.hpp"

namespace secms::admin {

// Told (from the watch's thread) when a live login's role changed behind the server.
using role_changed = std::function<void(std::int64_t userid, store::role role)>;

class account_watch {
  public:
    struct pass_result {
        bool store_changed = false;     // another connection changed users since the last pass
        std::size_t users_read = 0;     // users re-read from the store
        std::size_t logins_ended = 0;   // of disabled or deleted users
        std::size_t roles_updated = 0;  // users whose live logins got a new role
    };

    account_watch(store::user_store& users, auth::login_sessions& sessions,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(250));
    ~account_watch();
    account_watch(const account_watch&) = delete;
    account_watch& operator=(const account_watch&) = delete;

    // Set before start().
    void on_role_changed(role_changed cb) { on_role_changed_ = std::move(cb); }

    // Polls every `interval` on a thread of its own until stop() (or destruction).
    void start();
    void stop();

    // One pass; start() calls it on its thread, tests call it directly (not both at once).
    pass_result poll();

  private:
    store::user_store& users_;
    auth::login_sessions& sessions_;
    std::chrono::milliseconds interval_;
    role_changed on_role_changed_;
    std::optional<std::int64_t> seen_version_;        // PRAGMA data_version
    std::optional<std::int64_t> seen_users_version_;  // user_store::users_version
    std::uint64_t seen_logins_ = 0;                   // login_sessions::logins_changed
    std::unordered_set<std::int64_t> known_users_;    // read since the store last changed
    bool warned_ = false;                             // one log line per outage, not one per poll

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace secms::admin

#include "server/admin/account_watch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace secms::admin {

account_watch::account_watch(store::user_store& users, auth::login_sessions& sessions,
                             std::chrono::milliseconds interval)
    : users_(users), sessions_(sessions), interval_(interval) {}

account_watch::~account_watch() {
    stop();
}

void account_watch::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
        std::unique_lock held(mutex_);
        while (!stopping_) {
            held.unlock();
            poll();
            held.lock();
            wake_.wait_for(held, interval_, [this] { return stopping_; });
        }
    });
}

void account_watch::stop() {
    std::thread running;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        running = std::move(thread_);
    }
    wake_.notify_all();
    if (running.joinable()) running.join();
}

account_watch::pass_result account_watch::poll() {
    pass_result out;
    const auto unreadable = [this](store::store_error error) {
        if (warned_) return;
        spdlog::warn("account watch: cannot read the user database ({}); retrying",
                     store::message(error));
        warned_ = true;
    };
    auto version = users_.data_version();
    if (!version) {
        unreadable(version.error());
        return out;
    }
    // Read before the users are: a login made during this pass moves it again for the next one.
    const std::uint64_t logins = sessions_.logins_changed();
    // Nothing committed behind the server and no login made or role changed since the last
    // complete pass: nothing to look at (the common case, four times a second).
    if (seen_version_ == *version && seen_logins_ == logins) return out;
    // data_version moves for a commit by any other connection, to any table (the bans, the SIP
    // devices): only then is the users' own change counter read, and only when that moved too
    // are the logged-in users read again.
    std::optional<std::int64_t> users_changes = seen_users_version_;
    if (!seen_version_ || *seen_version_ != *version) {
        auto counted = users_.users_version();
        if (!counted) {
            unreadable(counted.error());
            return out;
        }
        users_changes = *counted;
    }
    out.store_changed = seen_users_version_.has_value() && *seen_users_version_ != *users_changes;
    if (out.store_changed) known_users_.clear();

    // One entry per distinct role a user's sessions carry: a user listed with two roles holds a
    // session with a stale one, and is read again even if it was known.
    std::unordered_map<std::int64_t, std::vector<store::role>> live;
    for (const auto& [userid, role] : sessions_.users_logged_in()) live[userid].push_back(role);

    bool complete = true;
    std::unordered_set<std::int64_t> still_known;
    for (const auto& [userid, roles] : live) {
        if (roles.size() == 1 && known_users_.contains(userid)) {
            still_known.insert(userid);
            continue;
        }
        auto record = users_.find_by_id(userid);
        ++out.users_read;
        if (!record && record.error() != store::store_error::not_found) {
            complete = false;  // read again at the next pass
            continue;
        }
        if (!record || record->disabled) {
            const std::size_t ended = sessions_.end_all_for_user(userid);
            out.logins_ended += ended;
            spdlog::info("account watch: {} userid={}: {} login(s) ended",
                         record ? "disabled" : "deleted", userid, ended);
            continue;
        }
        const store::role stored = record->role;
        if (std::any_of(roles.begin(), roles.end(), [&](store::role r) { return r != stored; })) {
            // Every live session of the user, and any login in flight (refused and retried).
            sessions_.update_role(userid, stored);
            ++out.roles_updated;
            spdlog::info("account watch: userid={} is now {}", userid, store::to_string(stored));
            if (on_role_changed_) on_role_changed_(userid, stored);
        }
        still_known.insert(userid);
    }
    known_users_ = std::move(still_known);
    if (complete) {
        seen_version_ = *version;
        seen_users_version_ = users_changes;
        seen_logins_ = logins;
        if (warned_) spdlog::info("account watch: the user database is readable again");
        warned_ = false;
    } else if (!warned_) {
        spdlog::warn("account watch: some users could not be read; retrying");
        warned_ = true;
    }
    return out;
}

}  // namespace secms::admin

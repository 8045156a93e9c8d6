#include "server/admin/account_watch.hpp"

#include <spdlog/spdlog.h>

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
    auto version = users_.data_version();
    if (!version) {
        if (!warned_) {
            spdlog::warn("account watch: cannot read the user database ({}); retrying",
                         store::message(version.error()));
            warned_ = true;
        }
        return out;
    }
    out.store_changed = seen_version_.has_value() && *seen_version_ != *version;
    if (out.store_changed) known_users_.clear();

    bool complete = true;
    std::unordered_set<std::int64_t> still_known;
    for (const auto& [userid, live_role] : sessions_.users_logged_in()) {
        if (known_users_.contains(userid)) {
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
        if (record->role != live_role) {
            sessions_.update_role(userid, record->role);
            ++out.roles_updated;
            spdlog::info("account watch: userid={} is now {}", userid,
                         store::to_string(record->role));
            if (on_role_changed_) on_role_changed_(userid, record->role);
        }
        still_known.insert(userid);
    }
    known_users_ = std::move(still_known);
    if (complete) {
        seen_version_ = *version;
        if (warned_) spdlog::info("account watch: the user database is readable again");
        warned_ = false;
    } else if (!warned_) {
        spdlog::warn("account watch: some users could not be read; retrying");
        warned_ = true;
    }
    return out;
}

}  // namespace secms::admin

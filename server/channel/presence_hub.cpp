#include "server/channel/presence_hub.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace secms::channel {

presence_hub::presence_hub(core::metrics& metrics) : metrics_(metrics) {}

std::string presence_message(const std::vector<online_user>& users) {
    boost::json::array list;
    for (const auto& u : users) {
        boost::json::object o;
        o["userid"] = u.userid;
        o["username"] = u.username;
        list.push_back(std::move(o));
    }
    boost::json::object msg;
    msg["type"] = "presence";
    msg["online"] = std::move(list);
    return boost::json::serialize(msg);
}

std::vector<online_user> presence_hub::online() const {
    std::lock_guard lock(mutex_);
    std::map<std::int64_t, std::string> users;
    for (const auto& [p, c] : connections_) users.emplace(c.info.userid, c.info.username);
    std::vector<online_user> out;
    for (auto& [id, name] : users) out.push_back({id, name});
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.username < b.username; });
    return out;
}

std::size_t presence_hub::connection_count() const {
    std::lock_guard lock(mutex_);
    return connections_.size();
}

std::size_t presence_hub::distinct_users_locked() const {
    std::set<std::int64_t> ids;
    for (const auto& [p, c] : connections_) ids.insert(c.info.userid);
    return ids.size();
}

std::shared_ptr<const std::string> presence_hub::presence_message_locked() const {
    std::map<std::string, std::int64_t> by_name;
    for (const auto& [p, c] : connections_) by_name.emplace(c.info.username, c.info.userid);
    std::vector<online_user> users;
    for (auto& [name, id] : by_name) users.push_back({id, name});
    return std::make_shared<const std::string>(presence_message(users));
}

// Sending only queues on each peer's strand, so it is safe (and keeps messages ordered) to do it
// under the lock.
void presence_hub::broadcast_locked(const std::shared_ptr<const std::string>& message) {
    for (auto& [p, c] : connections_) {
        if (auto alive = c.handle.lock()) alive->send_text(message);
    }
}

void presence_hub::join(const std::shared_ptr<peer>& p, member_info info) {
    std::lock_guard lock(mutex_);
    bool already_online = std::any_of(connections_.begin(), connections_.end(), [&](auto& entry) {
        return entry.second.info.userid == info.userid;
    });
    connections_[p.get()] = connection{p, std::move(info)};
    metrics_.users_online = static_cast<std::int64_t>(distinct_users_locked());
    auto message = presence_message_locked();
    if (already_online) {
        p->send_text(message);
    } else {
        broadcast_locked(message);
    }
}

void presence_hub::leave(const peer* p) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(p);
    if (it == connections_.end()) return;
    std::int64_t userid = it->second.info.userid;
    connections_.erase(it);
    bool still_online = std::any_of(connections_.begin(), connections_.end(), [&](auto& entry) {
        return entry.second.info.userid == userid;
    });
    metrics_.users_online = static_cast<std::int64_t>(distinct_users_locked());
    if (!still_online) broadcast_locked(presence_message_locked());
}

void presence_hub::end_login_session(const std::string& login_session_id) {
    std::vector<std::shared_ptr<peer>> to_close;
    {
        std::lock_guard lock(mutex_);
        for (auto& [p, c] : connections_) {
            if (c.info.login_session_id == login_session_id) {
                if (auto alive = c.handle.lock()) to_close.push_back(alive);
            }
        }
    }
    // close() leads to leave(), which takes the lock: call it outside.
    for (auto& p : to_close) p->close(close_reason::login_ended, "login session ended");
}

void presence_hub::end_user(std::int64_t userid) {
    std::vector<std::shared_ptr<peer>> to_close;
    {
        std::lock_guard lock(mutex_);
        for (auto& [p, c] : connections_) {
            if (c.info.userid == userid) {
                if (auto alive = c.handle.lock()) to_close.push_back(alive);
            }
        }
    }
    for (auto& p : to_close) p->close(close_reason::login_ended, "account ended");
}

void presence_hub::close_all(close_reason code, std::string_view reason) {
    std::vector<std::shared_ptr<peer>> to_close;
    {
        std::lock_guard lock(mutex_);
        for (auto& [p, c] : connections_) {
            if (auto alive = c.handle.lock()) to_close.push_back(alive);
        }
    }
    for (auto& p : to_close) p->close(code, reason);
}

}  // namespace secms::channel

#include "server/mail/mail_extension.hpp"

namespace secms::mail {

void mail_extension::connected(const std::shared_ptr<channel::peer>& p,
                               const channel::member_info& info) {
    std::size_t count;
    {
        std::lock_guard lock(mutex_);
        peers_[p.get()] = {info.userid, p};
        count = ++counts_[info.userid];
    }
    service_.sockets_changed(info.userid, count);
}

void mail_extension::disconnected(const channel::peer* p) {
    std::int64_t userid;
    std::size_t count;
    {
        std::lock_guard lock(mutex_);
        auto it = peers_.find(p);
        if (it == peers_.end()) return;
        userid = it->second.userid;
        peers_.erase(it);
        count = --counts_[userid];
        if (count == 0) counts_.erase(userid);
    }
    service_.sockets_changed(userid, count);
}

boost::asio::awaitable<void> mail_extension::handle_message(const std::shared_ptr<channel::peer>&,
                                                            std::string_view,
                                                            const boost::json::object&) {
    co_return;
}

void mail_extension::send_to_user(std::int64_t userid, std::string json_text) {
    auto message = std::make_shared<const std::string>(std::move(json_text));
    std::vector<std::shared_ptr<channel::peer>> targets;
    {
        std::lock_guard lock(mutex_);
        for (auto& [key, e] : peers_) {
            if (e.userid != userid) continue;
            if (auto p = e.peer.lock()) targets.push_back(std::move(p));
        }
    }
    for (auto& p : targets) p->send_text(message);
}

}  // namespace secms::mail

#include "server/mail/mail_service.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

#include "server/mail/mail_request.hpp"

namespace secms::mail {

mail_service::mail_service(service_settings settings, boost::asio::thread_pool& pool,
                           core::metrics& metrics, const core::clock& clock,
                           std::function<bool(std::string_view)> user_exists)
    : settings_(std::move(settings)),
      pool_(pool),
      metrics_(metrics),
      user_exists_(std::move(user_exists)),
      calls_({settings_.per_user_burst, settings_.per_user_per_minute, 100'000}, clock),
      sends_({std::max(1.0, settings_.send_per_user_per_minute), settings_.send_per_user_per_minute,
              100'000},
             clock),
      sweep_strand_(boost::asio::make_strand(pool.get_executor())),
      sweep_timer_(sweep_strand_) {}

mail_service::~mail_service() = default;

void mail_service::start() {
    boost::asio::post(sweep_strand_, [this] { schedule_sweep(); });
}

void mail_service::schedule_sweep() {
    sweep_timer_.expires_after(std::chrono::seconds(60));
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        sweep();
        schedule_sweep();
    });
}

void mail_service::stop() {
    std::vector<std::shared_ptr<mailbox>> closing;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        for (auto& [id, box] : local_) closing.push_back(box);
        for (auto& [id, entry] : external_) closing.push_back(entry.box);
        local_.clear();
        external_.clear();
    }
    for (auto& box : closing) box->close();
    boost::asio::post(sweep_strand_, [this] { sweep_timer_.cancel(); });
}

void mail_service::sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<mailbox>> closing;
    {
        std::lock_guard lock(mutex_);
        for (auto it = local_.begin(); it != local_.end();) {
            auto& box = it->second;
            if (!box->watched() && box->pending() == 0 &&
                now - box->last_used() > mailbox_idle_close) {
                closing.push_back(box);
                it = local_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& box : closing) box->close();
}

std::size_t mail_service::open_mailboxes() const {
    std::lock_guard lock(mutex_);
    return local_.size() + external_.size();
}

std::shared_ptr<mailbox> mail_service::make_local(std::int64_t userid,
                                                  const std::string& username) {
    mailbox_login login;
    login.imap = settings_.imap;
    // Dovecot's master user mechanism: "<user>*<master>" with the master secret.
    std::string user = username;
    for (char& ch : user) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    login.user = user + "*" + settings_.master_user;
    login.password = core::secret_string(std::string(settings_.master_secret.reveal()));
    return std::make_shared<mailbox>(pool_, std::move(login), userid, notifier_, metrics_,
                                     settings_.idle_refresh);
}

core::result<std::shared_ptr<mailbox>, mail_error> mail_service::mailbox_for(
    const auth::login_session& s) {
    std::shared_ptr<mailbox> box;
    bool watch = false;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return core::fail(mail_error::unavailable);
        logins_of_user_[s.userid].insert(s.id);
        user_of_login_[s.id] = s.userid;
        if (auto ext = external_.find(s.id); ext != external_.end()) return ext->second.box;
        if (auto it = local_.find(s.userid); it != local_.end()) return it->second;
        if (local_.size() + external_.size() >= max_open_mailboxes) {
            spdlog::warn("mail: {} mailboxes open, a new one is refused", max_open_mailboxes);
            return core::fail(mail_error::unavailable);
        }
        box = make_local(s.userid, s.username);
        local_[s.userid] = box;
        auto sockets = sockets_.find(s.userid);
        watch = sockets != sockets_.end() && sockets->second > 0;
    }
    if (watch) box->set_watched(true);
    return box;
}

std::optional<std::string> mail_service::external_email(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = external_.find(id);
    if (it == external_.end()) return std::nullopt;
    return it->second.account.email;
}

bool mail_service::external_summary(const std::string& id, external_account& out) const {
    std::lock_guard lock(mutex_);
    auto it = external_.find(id);
    if (it == external_.end()) return false;
    out.email = it->second.account.email;
    out.imap = it->second.account.imap;
    out.smtp.host = it->second.account.smtp.host;
    out.smtp.port = it->second.account.smtp.port;
    out.smtp.tls = it->second.account.smtp.tls;
    out.username = it->second.account.username;
    return true;
}

std::optional<transport_endpoint> mail_service::external_smtp(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = external_.find(id);
    if (it == external_.end()) return std::nullopt;
    const auto& smtp = it->second.account.smtp;
    transport_endpoint copy;
    copy.host = smtp.host;
    copy.port = smtp.port;
    copy.tls = smtp.tls;
    copy.timeout = smtp.timeout;
    copy.username = smtp.username;
    copy.password = core::secret_string(std::string(smtp.password.reveal()));
    return copy;
}

void mail_service::set_external(const auth::login_session& s, external_account account,
                                core::secret_string password) {
    mailbox_login login;
    login.imap = account.imap;
    login.user = account.username;
    login.password = std::move(password);
    auto box = std::make_shared<mailbox>(pool_, std::move(login), s.userid, notifier_, metrics_,
                                         settings_.idle_refresh);
    std::shared_ptr<mailbox> old;
    bool watch = false;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        logins_of_user_[s.userid].insert(s.id);
        user_of_login_[s.id] = s.userid;
        auto& entry = external_[s.id];
        old = std::move(entry.box);
        entry.account = std::move(account);
        entry.box = box;
        auto sockets = sockets_.find(s.userid);
        watch = sockets != sockets_.end() && sockets->second > 0;
    }
    if (old) old->close();
    if (watch) box->set_watched(true);
}

void mail_service::clear_external(const std::string& id) {
    std::shared_ptr<mailbox> old;
    {
        std::lock_guard lock(mutex_);
        auto it = external_.find(id);
        if (it == external_.end()) return;
        old = std::move(it->second.box);
        external_.erase(it);  // the account's password is wiped with it
    }
    if (old) old->close();
}

std::optional<std::chrono::seconds> mail_service::acquire_call(std::int64_t userid) {
    return calls_.acquire(std::to_string(userid));
}

std::optional<std::chrono::seconds> mail_service::acquire_send(std::int64_t userid) {
    return sends_.acquire(std::to_string(userid));
}

void mail_service::sockets_changed(std::int64_t userid, std::size_t open_sockets) {
    std::vector<std::shared_ptr<mailbox>> boxes;
    {
        std::lock_guard lock(mutex_);
        if (open_sockets == 0) {
            sockets_.erase(userid);
        } else {
            sockets_[userid] = open_sockets;
        }
        if (auto it = local_.find(userid); it != local_.end()) boxes.push_back(it->second);
        for (auto& [id, entry] : external_) {
            if (entry.box->userid() == userid) boxes.push_back(entry.box);
        }
    }
    for (auto& box : boxes) {
        if (box->watched() != (open_sockets > 0)) box->set_watched(open_sockets > 0);
    }
}

void mail_service::end_login_session(const std::string& id) {
    std::vector<std::shared_ptr<mailbox>> closing;
    {
        std::lock_guard lock(mutex_);
        if (auto ext = external_.find(id); ext != external_.end()) {
            closing.push_back(std::move(ext->second.box));
            external_.erase(ext);
        }
        auto user = user_of_login_.find(id);
        if (user != user_of_login_.end()) {
            auto userid = user->second;
            user_of_login_.erase(user);
            auto& logins = logins_of_user_[userid];
            logins.erase(id);
            if (logins.empty()) {
                logins_of_user_.erase(userid);
                if (auto it = local_.find(userid); it != local_.end()) {
                    closing.push_back(std::move(it->second));
                    local_.erase(it);
                }
            }
        }
    }
    for (auto& box : closing) box->close();
}

}  // namespace secms::mail

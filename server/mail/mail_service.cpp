#include "server/mail/mail_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <span>

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

namespace {

mailbox_login master_login_of(const service_settings& settings, std::string_view username) {
    mailbox_login login;
    login.imap = settings.imap;
    // Dovecot's master user mechanism: "<user>*<master>" with the master secret.
    std::string user(username);
    for (char& ch : user) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    login.user = user + "*" + settings.master_user;
    login.password = core::secret_string(std::string(settings.master_secret.reveal()));
    return login;
}

}  // namespace

mailbox_login mail_service::master_login(std::string_view username) const {
    return master_login_of(settings_, username);
}

std::shared_ptr<mailbox> mail_service::make_local(std::int64_t userid,
                                                  const std::string& username) {
    return std::make_shared<mailbox>(pool_, master_login(username), userid, notifier_, metrics_,
                                     settings_.idle_refresh);
}

namespace {

// Every message of the selected folder flagged \Deleted and expunged, 500 UIDs a command.
core::status<mail_error> expunge_all(imap_session& session, std::string_view path) {
    if (auto selected = session.select(path); !selected) return core::fail(selected.error());
    auto uids = session.sorted_uids(sort_key::arrival, false, {});
    if (!uids) return core::fail(uids.error());
    static const std::vector<std::string> deleted{"\\Deleted"};
    constexpr std::size_t batch = 500;
    for (std::size_t i = 0; i < uids->size(); i += batch) {
        std::span<const std::uint32_t> part(uids->data() + i, std::min(batch, uids->size() - i));
        if (auto stored = session.store_flags(part, deleted, {}); !stored) return stored;
        if (auto gone = session.expunge(part); !gone) return gone;
    }
    return core::ok;
}

}  // namespace

core::status<mail_error> mail_service::erase_mailbox(std::int64_t userid, std::string_view username,
                                                     const std::function<void()>& once_refused) {
    std::shared_ptr<mailbox> open_box;
    {
        std::lock_guard lock(mutex_);
        if (userid != 0) {
            deleted_users_.insert(userid);
            if (auto it = local_.find(userid); it != local_.end()) {
                open_box = std::move(it->second);
                local_.erase(it);
            }
        }
    }
    if (once_refused) once_refused();
    // No job of the old mailbox may store anything after the erase: queued ones are refused,
    // the running one is waited for (it has its own deadline; past it the erase goes on).
    if (open_box) open_box->retire().wait_for(open_box->job_time(std::chrono::seconds(0)));
    return erase_local_mailbox(settings_, userid, username);
}

core::status<mail_error> erase_local_mailbox(const service_settings& settings, std::int64_t userid,
                                             std::string_view username) {
    const auto login = master_login_of(settings, username);
    auto fail = [&](mail_error e, const char* step) -> core::status<mail_error> {
        spdlog::error("mail: erasing the mailbox of userid={} failed ({}): {}", userid, step,
                      code(e));
        return core::fail(e);
    };
    auto session = imap_session::open(login.imap, login.user, login.password);
    if (!session) return fail(session.error(), "login");
    auto folders = session->folders();
    if (!folders) return fail(folders.error(), "list");
    // Children before their parents.
    std::sort(folders->begin(), folders->end(), [](const folder_info& a, const folder_info& b) {
        return a.path.size() > b.path.size();
    });
    std::size_t deleted = 0;
    std::size_t emptied = 0;
    for (const auto& folder : *folders) {
        if (folder.use == special_use::none) {
            if (auto gone = session->delete_folder(folder.path); !gone) {
                return fail(gone.error(), "delete folder");
            }
            ++deleted;
        } else if (folder.selectable) {
            if (auto empty = expunge_all(*session, folder.path); !empty) {
                return fail(empty.error(), "expunge");
            }
            ++emptied;
        }
    }
    spdlog::info("mail: mailbox of userid={} erased ({} folders deleted, {} emptied)", userid,
                 deleted, emptied);
    return core::ok;
}

core::result<std::shared_ptr<mailbox>, mail_error> mail_service::mailbox_for(
    const auth::login_session& s) {
    std::shared_ptr<mailbox> box;
    bool watch = false;
    {
        std::lock_guard lock(mutex_);
        if (stopped_ || deleted_users_.contains(s.userid))
            return core::fail(mail_error::unavailable);
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
    copy.address_allowed = smtp.address_allowed;
    return copy;
}

void mail_service::set_external(const auth::login_session& s, external_account account,
                                core::secret_string password) {
    // Every later connection of the account (each reconnect, each /send) goes to an address
    // checked then, not to wherever the name points by then.
    if (!settings_.external_allow_private) {
        account.imap.address_allowed = public_address;
        account.smtp.address_allowed = public_address;
    }
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

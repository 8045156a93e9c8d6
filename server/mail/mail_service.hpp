// The mail service: which mailbox a request uses (the user's local one, or the external
// account of its login session), their lifetimes (closed at logout, after 10 idle minutes
// without a WebSocket, at shutdown), per-user limits, and the users' WebSocket presence that
// decides where IMAP IDLE runs.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "server/auth/login_sessions.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/core/clock.hpp"
#include "server/core/metrics.hpp"
#include "server/mail/mail_settings.hpp"
#include "server/mail/mailbox.hpp"

namespace secms::mail {

// Open mailboxes in all (each holds an IMAP connection while used): more → unavailable.
inline constexpr std::size_t max_open_mailboxes = 10'000;
// A mailbox without WebSocket and without a request for this long is closed.
inline constexpr std::chrono::minutes mailbox_idle_close{10};

struct external_account {
    std::string email;
    imap_endpoint imap;
    transport_endpoint smtp;  // username and password of the account
    std::string username;
};

class mail_service {
  public:
    mail_service(service_settings settings, boost::asio::thread_pool& pool, core::metrics& metrics,
                 const core::clock& clock,
                 std::function<bool(std::string_view username)> user_exists);
    ~mail_service();

    const service_settings& settings() const noexcept { return settings_; }
    boost::asio::thread_pool& pool() noexcept { return pool_; }
    core::metrics& metrics() noexcept { return metrics_; }
    // Blocking (database): whether a local user of that (lower-case) name exists.
    bool user_exists(std::string_view username) const { return user_exists_(username); }

    void set_notifier(mail_notifier* notifier) { notifier_ = notifier; }
    // Starts the sweep of idle mailboxes; stop() ends it and closes every mailbox (shutdown).
    void start();
    void stop();

    // The mailbox a request of this login uses; unavailable when too many are open.
    core::result<std::shared_ptr<mailbox>, mail_error> mailbox_for(const auth::login_session& s);
    // The external account of this login, if one is set.
    std::optional<std::string> external_email(const std::string& login_session_id) const;
    bool external_summary(const std::string& login_session_id, external_account& out) const;
    // Uses `account` for this login from now on (its mailbox already opened by the caller).
    void set_external(const auth::login_session& s, external_account account,
                      core::secret_string password);
    void clear_external(const std::string& login_session_id);
    // The SMTP endpoint of the login's external account (with its password), if any.
    std::optional<transport_endpoint> external_smtp(const std::string& login_session_id) const;

    // Per-user limits: API calls, and messages sent.
    std::optional<std::chrono::seconds> acquire_call(std::int64_t userid);
    std::optional<std::chrono::seconds> acquire_send(std::int64_t userid);

    // The WebSocket extension: how many sockets the user has open now.
    void sockets_changed(std::int64_t userid, std::size_t open_sockets);
    // A login ended (logout, password change, expiry, account deletion): its external account
    // is forgotten; the user's local mailbox closes with the user's last login.
    void end_login_session(const std::string& login_session_id);

    std::size_t open_mailboxes() const;

    // Blocking (IMAP; call on the work pool): empties the local mailbox of `username`: every
    // folder but INBOX and the special-use ones deleted, every message of those expunged. After
    // an account is deleted, and before a name is registered (a deleted account's mail must not
    // go to the next owner of the name). For a deleted account (userid not 0) the userid gets no
    // mailbox any more (mailbox_for refuses it), and its open mailbox is closed and its running
    // job waited for before the erase, so nothing is stored behind it. `once_refused` runs
    // right after the userid is refused a mailbox and before the wait (the caller ends the
    // account's logins there: ending the last one first would close the mailbox without
    // waiting for its running job, and a request between the two could open a new one).
    // Logged by userid (0 before registration); failures are logged and returned.
    core::status<mail_error> erase_mailbox(std::int64_t userid, std::string_view username,
                                           const std::function<void()>& once_refused = {});

  private:
    struct external_entry {
        external_account account;
        std::shared_ptr<mailbox> box;
    };
    void sweep();
    void schedule_sweep();
    std::shared_ptr<mailbox> make_local(std::int64_t userid, const std::string& username);
    mailbox_login master_login(std::string_view username) const;

    service_settings settings_;
    boost::asio::thread_pool& pool_;
    core::metrics& metrics_;
    std::function<bool(std::string_view)> user_exists_;
    mail_notifier* notifier_ = nullptr;
    auth::rate_limiter calls_;
    auth::rate_limiter sends_;

    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<mailbox>> local_;
    std::unordered_map<std::string, external_entry> external_;  // by login session id
    std::unordered_map<std::int64_t, std::set<std::string>> logins_of_user_;
    std::unordered_map<std::string, std::int64_t> user_of_login_;
    std::unordered_map<std::int64_t, std::size_t> sockets_;
    bool stopped_ = false;
    // Deleted accounts (userids are never reused): no mailbox is opened for them again.
    std::set<std::int64_t> deleted_users_;

    boost::asio::strand<boost::asio::thread_pool::executor_type> sweep_strand_;
    boost::asio::steady_timer sweep_timer_;
};

// Blocking (IMAP): erase_mailbox's work without a mail_service, over the master login of
// `settings` (imap, master_user, master_secret): for the `user` administration commands.
core::status<mail_error> erase_local_mailbox(const service_settings& settings, std::int64_t userid,
                                             std::string_view username);

}  // namespace secms::mail

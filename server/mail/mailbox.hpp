// One IMAP connection of one account (a user's local mailbox, or a login session's external
// account), used by one job at a time: jobs run in order on a strand of the work pool (libetpan
// blocks). Between jobs, while the user has a WebSocket open, the connection sits in IDLE on
// INBOX and the socket is watched on the same strand; a change is pushed as mail_new.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "server/core/metrics.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/thread_index.hpp"

namespace secms::mail {

enum class connection_state { connecting, connected, error };

// Where a mailbox's events go: the WebSocket extension sends them to the user's sockets.
class mail_notifier {
  public:
    virtual ~mail_notifier() = default;
    virtual void send_to_user(std::int64_t userid, std::string json_text) = 0;
};

struct mailbox_login {
    imap_endpoint imap;
    std::string user;  // "alice*secms" for the local mailbox
    core::secret_string password;
};

// A cached, sorted and filtered list of one folder: what paging reads from.
struct cached_list {
    std::uint32_t uidvalidity = 0;
    std::uint32_t exists = 0;         // the folder's counts when the list was made: a list made
    std::uint32_t uidnext = 0;        // before an arrival or an expunge is made again
    std::vector<std::uint32_t> uids;  // threads=0: the sorted uids
    std::vector<conversation> conversations;  // threads=1
    std::chrono::steady_clock::time_point made;
};

class mailbox : public std::enable_shared_from_this<mailbox> {
  public:
    using strand_type = boost::asio::strand<boost::asio::thread_pool::executor_type>;
    // Jobs queued or running on one mailbox past which a request is refused (429).
    static constexpr int max_pending_jobs = 18;

    mailbox(boost::asio::thread_pool& pool, mailbox_login login, std::int64_t userid,
            mail_notifier* notifier, core::metrics& metrics, std::chrono::seconds idle_refresh);
    ~mailbox();

    // Runs `fn(imap_session&)` (returning core::result<T, mail_error>) on the strand, after
    // leaving IDLE and (re)opening the connection if needed. The answer is unavailable when
    // the server cannot be reached, rate_limited when too many jobs wait already, timeout when
    // the job (queued and running) took longer than job_time(extra): a job still queued then
    // never runs, a running one has its connection shut down (its blocking command returns at
    // once) and the next job opens a new connection. `extra` is for big transfers (appends).
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, imap_session&>> run(
        F fn, std::chrono::seconds extra = std::chrono::seconds(0)) {
        using result_type = std::invoke_result_t<F&, imap_session&>;
        if (pending_.fetch_add(1) >= max_pending_jobs) {
            --pending_;
            co_return core::fail(mail_error::rate_limited);
        }
        // The frame keeps the mailbox alive; the job lambda holds only plain pointers (GCC 12
        // may destroy a temporary of a co_await expression twice, so it owns nothing).
        auto self = shared_from_this();
        mailbox* box = this;
        F* job = &fn;
        auto control = std::make_shared<job_control>();
        control->id = ++job_counter_;
        control->deadline = std::chrono::steady_clock::now() + job_time(extra);
        job_control* ctl = control.get();
        // The deadline is watched on the caller's executor: the strand may be blocked by the job.
        boost::asio::steady_timer deadline_timer(co_await boost::asio::this_coro::executor);
        deadline_timer.expires_at(control->deadline);
        deadline_timer.async_wait([self, control](boost::system::error_code e) {
            if (!e) self->abort_job(control->id);
        });
        std::optional<result_type> out = co_await boost::asio::co_spawn(
            strand_,
            [box, job, ctl]() -> boost::asio::awaitable<std::optional<result_type>> {
                std::optional<result_type> r;
                if (std::chrono::steady_clock::now() >= ctl->deadline) {
                    r.emplace(core::fail(mail_error::timeout));  // waited too long in the queue
                } else if (auto opened = box->prepare(); !opened) {
                    r.emplace(core::fail(opened.error()));
                } else if (!box->begin_job(*ctl)) {
                    r.emplace(core::fail(mail_error::timeout));
                } else {
                    r.emplace((*job)(*box->session_));
                    if (box->end_job()) {
                        if (!r->has_value()) r.emplace(core::fail(mail_error::timeout));
                    } else if (!r->has_value() && box->after_failure(r->error())) {
                        r.emplace(core::fail(mail_error::unavailable));
                    }
                }
                box->job_done();
                co_return r;
            },
            boost::asio::use_awaitable);
        deadline_timer.cancel();
        co_return std::move(*out);
    }

    // The whole time a job may take, queued and running: twice the command timeout, plus
    // `extra`.
    static std::chrono::seconds transfer_time(std::size_t bytes) {
        // One more second per 256 KiB a big message travels (about 2 Mbit/s).
        return std::chrono::seconds(bytes / (256 * 1024));
    }
    std::chrono::steady_clock::duration job_time(std::chrono::seconds extra) const {
        return 2 * login_.imap.timeout + extra;
    }

    // Whether the user has a WebSocket open (IDLE only then). Thread-safe.
    void set_watched(bool watched);
    // Ends IDLE and logs out; later jobs reopen. Thread-safe, asynchronous.
    void close();
    // For good (the account is deleted): queued and later jobs fail (unavailable) and nothing
    // reopens the connection; the future is ready once the running job, if any, has ended and
    // the connection is closed. Thread-safe.
    std::future<void> retire();

    std::int64_t userid() const noexcept { return userid_; }
    bool watched() const noexcept { return watched_; }
    int pending() const noexcept { return pending_; }
    std::chrono::steady_clock::time_point last_used() const;
    connection_state state() const;
    std::optional<mail_error> last_error() const;

    // Strand-only (inside jobs): the list cache and the folder cache.
    std::map<std::string, cached_list>& lists() { return lists_; }
    std::optional<std::vector<folder_info>>& folder_cache() { return folders_; }
    // Strand-only: drops every cached list and the folder cache (after any write).
    void invalidate() {
        lists_.clear();
        folders_.reset();
    }

  private:
    struct job_control {
        std::uint64_t id = 0;
        std::chrono::steady_clock::time_point deadline;
    };
    core::status<mail_error> prepare();
    // Strand: the job starts running on the open session (false when its deadline passed
    // already); end_job: it ended; true when abort_job shut its connection down meanwhile
    // (the session is then dropped: the next job reopens).
    bool begin_job(const job_control& job);
    bool end_job();
    // Any thread: past a job's deadline, shuts down the connection it runs on, if it runs.
    void abort_job(std::uint64_t id);
    // After a failed command: drops a dead connection; true when it did and the failure was
    // the connection's (the answer is then unavailable: nothing was changed).
    bool after_failure(mail_error e);
    void job_done();
    void set_state(connection_state s, std::optional<mail_error> e);
    void enter_idle();
    void leave_idle();
    void wait_idle(std::uint64_t generation);
    void on_idle_readable(std::uint64_t generation);
    void notify_new();
    // Strand: after IDLE reported a change: leaves IDLE, pushes the counts, IDLE again.
    void on_inbox_changed();
    // Strand: whether INBOX as `view` shows (the connection's view of it after SELECT or the
    // untagged answers of later commands) has mail the page was not told about: mail that
    // came while no IDLE ran (during jobs, between a push's STATUS and the next IDLE, while
    // reconnecting) is in those counts and never in an IDLE report. The first view is the
    // baseline.
    bool inbox_has_news(const select_info& view);
    void drop_session();
    // While watched: the connection lost or not opened, IDLE is tried again later (2 s, then
    // doubling up to 60 s), so push and the mail_status "connected" come back by themselves.
    void schedule_reconnect();

    strand_type strand_;
    mailbox_login login_;
    std::int64_t userid_;
    mail_notifier* notifier_;
    core::metrics& metrics_;
    std::chrono::seconds idle_refresh_;

    std::atomic<int> pending_{0};
    std::atomic<bool> watched_{false};
    std::atomic<bool> retired_{false};
    mutable std::mutex state_mutex_;
    connection_state state_ = connection_state::connecting;
    std::optional<mail_error> last_error_;
    std::chrono::steady_clock::time_point last_used_;
    std::atomic<std::uint64_t> job_counter_{0};
    // The running job and its connection's socket, for abort_job (guarded by state_mutex_;
    // cleared before the session closes, so a shutdown never reaches a reused descriptor).
    std::uint64_t running_job_ = 0;
    int running_fd_ = -1;
    bool job_aborted_ = false;

    // Strand-only.
    std::optional<imap_session> session_;
    bool idling_ = false;
    std::uint64_t idle_generation_ = 0;
    boost::asio::posix::stream_descriptor idle_socket_;
    boost::asio::steady_timer idle_timer_;
    boost::asio::steady_timer reconnect_timer_;
    std::chrono::seconds reconnect_delay_{2};
    std::map<std::string, cached_list> lists_;
    std::optional<std::vector<folder_info>> folders_;
    // INBOX as last compared (kept across reconnects): the connection's view at the last
    // check, the message count the page was last told (or that came with its own changes),
    // and whether the view's UIDNEXT matches what the page knows. It does not after a push:
    // the counts came from STATUS and the EXISTS lines read during IDLE never reach the
    // connection's view, so UIDNEXT counts again only once a SELECT has refreshed it.
    std::optional<select_info> inbox_view_;
    std::uint32_t inbox_reported_exists_ = 0;
    bool inbox_uidnext_current_ = false;
};

}  // namespace secms::mail

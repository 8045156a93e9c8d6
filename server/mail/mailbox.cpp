#include "server/mail/mailbox.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <unistd.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cerrno>

namespace secms::mail {

namespace asio = boost::asio;

namespace {

std::string status_event(connection_state state, std::optional<mail_error> error) {
    boost::json::object o;
    o["type"] = "mail_status";
    o["connection"] = state == connection_state::connected    ? "connected"
                      : state == connection_state::connecting ? "connecting"
                                                              : "error";
    if (error) {
        boost::json::object e;
        e["code"] = code(*error);
        e["message"] = message(*error);
        o["error"] = std::move(e);
    } else {
        o["error"] = nullptr;
    }
    return boost::json::serialize(o);
}

// Whether the server closed (or reset) this idle connection meanwhile, e.g. Dovecot restarted:
// such a session is replaced before the job instead of failing its first command. Only the end
// of the stream counts: pending bytes may be TLS records of a healthy connection.
bool peer_gone(int fd) {
    if (fd < 0) return true;
    char byte;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace

mailbox::mailbox(asio::thread_pool& pool, mailbox_login login, std::int64_t userid,
                 mail_notifier* notifier, core::metrics& metrics, std::chrono::seconds idle_refresh)
    : strand_(asio::make_strand(pool.get_executor())),
      login_(std::move(login)),
      userid_(userid),
      notifier_(notifier),
      metrics_(metrics),
      idle_refresh_(idle_refresh),
      last_used_(std::chrono::steady_clock::now()),
      idle_socket_(strand_),
      idle_timer_(strand_),
      reconnect_timer_(strand_) {}

mailbox::~mailbox() {
    // The last owner may be a handler on the strand or the service; either way nothing else
    // uses the session now.
    boost::system::error_code ec;
    idle_socket_.close(ec);
    if (session_) --metrics_.mail_sessions_open;
}

std::chrono::steady_clock::time_point mailbox::last_used() const {
    std::lock_guard lock(state_mutex_);
    return last_used_;
}

connection_state mailbox::state() const {
    std::lock_guard lock(state_mutex_);
    return state_;
}

std::optional<mail_error> mailbox::last_error() const {
    std::lock_guard lock(state_mutex_);
    return last_error_;
}

void mailbox::set_state(connection_state s, std::optional<mail_error> e) {
    bool changed;
    {
        std::lock_guard lock(state_mutex_);
        changed = state_ != s || last_error_ != e;
        state_ = s;
        last_error_ = e;
    }
    if (changed && notifier_ != nullptr) notifier_->send_to_user(userid_, status_event(s, e));
}

core::status<mail_error> mailbox::prepare() {
    if (retired_) return core::fail(mail_error::unavailable);
    {
        std::lock_guard lock(state_mutex_);
        last_used_ = std::chrono::steady_clock::now();
    }
    leave_idle();
    if (session_ && (!session_->alive() || peer_gone(session_->idle_fd()))) drop_session();
    if (session_) return core::ok;
    auto opened = imap_session::open(login_.imap, login_.user, login_.password);
    if (!opened) {
        auto e =
            opened.error() == mail_error::login_failed ? mail_error::unavailable : opened.error();
        spdlog::warn("mail: cannot open the IMAP connection of userid={}: {}", userid_, code(e));
        set_state(connection_state::error, e);
        return core::fail(e);
    }
    session_.emplace(std::move(*opened));
    ++metrics_.mail_sessions_open;
    reconnect_delay_ = std::chrono::seconds(2);
    invalidate();
    if (!inbox_view_ && watched_) {
        // The baseline for the first IDLE: mail that comes while the page's first requests
        // run is then pushed too. A failure here is the job's to meet and report.
        if (auto inbox = session_->select("INBOX")) (void)inbox_has_news(*inbox);
    }
    set_state(connection_state::connected, std::nullopt);
    return core::ok;
}

bool mailbox::after_failure(mail_error e) {
    if (!session_ || session_->alive()) return false;
    drop_session();
    set_state(connection_state::error, e == mail_error::timeout ? e : mail_error::unavailable);
    return e != mail_error::timeout;
}

bool mailbox::begin_job(const job_control& job) {
    const int fd = session_->idle_fd();
    std::lock_guard lock(state_mutex_);
    if (std::chrono::steady_clock::now() >= job.deadline) return false;
    running_job_ = job.id;
    running_fd_ = fd;
    job_aborted_ = false;
    return true;
}

bool mailbox::end_job() {
    bool aborted;
    {
        std::lock_guard lock(state_mutex_);
        running_job_ = 0;
        running_fd_ = -1;
        aborted = job_aborted_;
        job_aborted_ = false;
    }
    if (aborted) {
        spdlog::warn("mail: a job of userid={} took longer than {} s; its connection is closed",
                     userid_,
                     std::chrono::duration_cast<std::chrono::seconds>(job_time({})).count());
        drop_session();
        set_state(connection_state::error, mail_error::timeout);
    }
    return aborted;
}

void mailbox::abort_job(std::uint64_t id) {
    std::lock_guard lock(state_mutex_);
    if (running_job_ != id || running_fd_ < 0 || job_aborted_) return;
    // The blocking libetpan call on this socket fails at once; the job ends with an error.
    ::shutdown(running_fd_, SHUT_RDWR);
    job_aborted_ = true;
}

void mailbox::job_done() {
    if (--pending_ == 0) enter_idle();
}

void mailbox::drop_session() {
    boost::system::error_code ec;
    idle_socket_.close(ec);
    idle_timer_.cancel();
    idling_ = false;
    ++idle_generation_;
    if (session_) {
        session_.reset();
        --metrics_.mail_sessions_open;
    }
    invalidate();
}

void mailbox::set_watched(bool watched) {
    watched_ = watched;
    asio::post(strand_, [self = shared_from_this()] {
        if (self->watched_) {
            if (self->pending_ == 0) self->enter_idle();
        } else {
            self->reconnect_timer_.cancel();
            self->leave_idle();
        }
    });
}

void mailbox::close() {
    watched_ = false;
    asio::post(strand_, [self = shared_from_this()] {
        self->reconnect_timer_.cancel();
        self->leave_idle();
        self->drop_session();
    });
}

std::future<void> mailbox::retire() {
    retired_ = true;
    watched_ = false;
    auto done = std::make_shared<std::promise<void>>();
    auto ready = done->get_future();
    // Behind the running job on the strand: when this runs, that job has ended.
    asio::post(strand_, [self = shared_from_this(), done] {
        self->reconnect_timer_.cancel();
        self->leave_idle();
        self->drop_session();
        done->set_value();
    });
    return ready;
}

void mailbox::enter_idle() {
    if (!watched_ || idling_ || pending_ != 0) return;
    if (!session_) {
        // Opened for push only while someone watches; a failure is told as mail_status.
        if (auto opened = prepare(); !opened) {
            schedule_reconnect();
            return;
        }
    }
    auto selected = session_->select("INBOX");
    if (!selected) {
        after_failure(selected.error());
        if (!session_) schedule_reconnect();
        return;
    }
    if (inbox_has_news(*selected)) {
        invalidate();
        notify_new();
    }
    if (auto started = session_->idle_start(); !started) {
        after_failure(started.error());
        if (!session_) schedule_reconnect();
        return;
    }
    int fd = ::dup(session_->idle_fd());
    if (fd < 0) {
        (void)session_->idle_done();
        return;
    }
    boost::system::error_code ec;
    idle_socket_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        (void)session_->idle_done();
        return;
    }
    idling_ = true;
    const auto generation = ++idle_generation_;
    idle_timer_.expires_after(idle_refresh_);
    idle_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code e) {
        if (e || generation != self->idle_generation_ || !self->idling_) return;
        // RFC 2177: re-issue IDLE at least every 29 minutes.
        self->leave_idle();
        self->enter_idle();
    });
    // Untagged answers read with the continuation are in the selection's counts (INBOX stays
    // selected, so this sends no command).
    if (auto started = session_->select("INBOX"); started && inbox_has_news(*started)) {
        on_inbox_changed();
        return;
    }
    // The server reports what changed since the last command right after "+ idling"; libetpan
    // may have read those lines ahead with the continuation, and then the socket never turns
    // readable for them: the first poll does not wait for it. Posted, not called: a push
    // from it enters IDLE again, and a stream of deliveries must not deepen the stack.
    asio::post(strand_, [self = shared_from_this(), generation] {
        if (generation != self->idle_generation_ || !self->idling_) return;
        self->on_idle_readable(generation);
    });
}

void mailbox::wait_idle(std::uint64_t generation) {
    idle_socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                            [self = shared_from_this(), generation](boost::system::error_code e) {
                                if (e || generation != self->idle_generation_ || !self->idling_)
                                    return;
                                self->on_idle_readable(generation);
                            });
}

void mailbox::on_idle_readable(std::uint64_t generation) {
    switch (session_->idle_poll()) {
        case idle_event::none:
            wait_idle(generation);
            return;
        case idle_event::closed:
            drop_session();
            set_state(connection_state::error, mail_error::unavailable);
            schedule_reconnect();
            return;
        case idle_event::changed:
            on_inbox_changed();
            return;
    }
}

void mailbox::on_inbox_changed() {
    leave_idle();
    invalidate();
    notify_new();
    enter_idle();
}

bool mailbox::inbox_has_news(const select_info& view) {
    if (!inbox_view_) {
        inbox_view_ = view;
        inbox_reported_exists_ = view.exists;
        inbox_uidnext_current_ = true;
        return false;
    }
    const select_info before = *inbox_view_;
    if (view.uidvalidity == before.uidvalidity && view.exists == before.exists &&
        view.uidnext == before.uidnext) {
        return false;  // nothing seen since the last check (or since the page was told)
    }
    inbox_view_ = view;
    // UIDNEXT changes only with a SELECT's answer: a fresh value.
    const bool uidnext_refreshed = view.uidnext != before.uidnext;
    const bool news = view.uidvalidity != before.uidvalidity ||
                      view.exists > inbox_reported_exists_ ||
                      (inbox_uidnext_current_ && uidnext_refreshed);
    if (!news) {
        // Fewer messages (expunged, by the page itself or another client) or a stale view
        // catching up with what the page was told: the baseline moves, nothing is pushed.
        inbox_reported_exists_ = view.exists;
        if (uidnext_refreshed) inbox_uidnext_current_ = true;
    }
    return news;
}

void mailbox::schedule_reconnect() {
    if (!watched_) return;
    reconnect_timer_.expires_after(reconnect_delay_);
    reconnect_delay_ =
        std::min<std::chrono::seconds>(2 * reconnect_delay_, std::chrono::seconds(60));
    reconnect_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (e || !self->watched_ || self->idling_ || self->pending_ != 0) return;
        self->enter_idle();
    });
}

void mailbox::leave_idle() {
    if (!idling_) return;
    idling_ = false;
    ++idle_generation_;
    boost::system::error_code ec;
    idle_socket_.close(ec);
    idle_timer_.cancel();
    if (session_) {
        if (auto done = session_->idle_done(); !done) after_failure(done.error());
    }
}

void mailbox::notify_new() {
    if (notifier_ == nullptr || !session_) return;
    // Whatever comes of it, the counts of the push are what the page knows; the connection's
    // view of INBOX may lag them (see inbox_uidnext_current_).
    inbox_uidnext_current_ = false;
    if (inbox_view_) inbox_reported_exists_ = inbox_view_->exists;
    // STATUS through the folder list: the selected folder's EXISTS as SELECT cached it may lag.
    auto list = session_->folders();
    if (!list) return;
    folders_ = std::move(*list);
    for (const auto& f : *folders_) {
        if (f.use != special_use::inbox && f.path != "INBOX") continue;
        boost::json::object o;
        inbox_reported_exists_ = f.total;
        o["type"] = "mail_new";
        o["folder"] = "INBOX";
        o["exists"] = f.total;
        o["unseen"] = f.unseen;
        notifier_->send_to_user(userid_, boost::json::serialize(o));
        return;
    }
}

}  // namespace secms::mail

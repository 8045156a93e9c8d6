#include "server/net/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include "server/core/log.hpp"
#include "server/http/cookies.hpp"
#include "server/http/request_path.hpp"
#include "server/http/responses.hpp"
#include "server/http/router.hpp"
#include "server/http/security_headers.hpp"
#include "server/net/buffer_wipe.hpp"
#include "server/net/connection_limits.hpp"
#include "server/net/websocket_session.hpp"

namespace secms::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Errors that are a normal end of a connection, not worth a log line: the client went away,
// timed out, or spoke something that was not TLS.
bool is_normal_end(const beast::error_code& ec) {
    return ec == asio::error::operation_aborted || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == beast::error::timeout ||
           ec == asio::ssl::error::stream_truncated || ec == bhttp::error::end_of_stream ||
           ec.category() == asio::error::get_ssl_category();
}

void fail(const beast::error_code& ec, const char* what) {
    if (!ec || is_normal_end(ec)) return;
    spdlog::debug("{}: {}", what, core::log_escape(ec.message()));
}

class connection_guard {
  public:
    explicit connection_guard(core::metrics& m) : m_(m) {
        ++m_.connections_open;
        ++m_.connections_total;
    }
    ~connection_guard() { --m_.connections_open; }
    connection_guard(const connection_guard&) = delete;
    connection_guard& operator=(const connection_guard&) = delete;

  private:
    core::metrics& m_;
};

http::client_info client_of(const tcp::socket& socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return {"unknown", false};
    return {ep.address().to_string(), ep.address().is_loopback()};
}

// An error response for a request that could not be read; the connection closes after it.
http::response parse_error_response(const beast::error_code& ec) {
    if (ec == bhttp::error::body_limit) {
        return http::error_response(bhttp::status::payload_too_large, "payload_too_large",
                                    "The request body is too large.", 11);
    }
    if (ec == bhttp::error::header_limit) {
        return http::error_response(bhttp::status::request_header_fields_too_large,
                                    "headers_too_large", "The request headers are too large.", 11);
    }
    return http::error_response(bhttp::status::bad_request, "bad_request",
                                "The request is not valid HTTP/1.1.", 11);
}

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// POST /api/v1/mail/append or /api/v1/mail/send (exactly, after normalisation): the only
// requests whose body may be a whole message (mail_max_message_bytes).
bool takes_mail_body(const bhttp::request_parser<bhttp::string_body>::value_type& req) {
    if (req.method() != bhttp::verb::post) return false;
    auto path = http::normalise_request_path(req.target());
    return path && (*path == "/api/v1/mail/append" || *path == "/api/v1/mail/send");
}

// Reads and discards what the client is still sending, up to `max_drain_bytes` or 2 seconds
// (16 KiB of memory whatever the amount).
asio::awaitable<void> drain_input(tls_stream& stream, std::uint64_t max_drain_bytes = 1024 * 1024) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> sink{};
    std::size_t drained = 0;
    while (drained < max_drain_bytes) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), as_tuple(use_awaitable));
        if (ec) break;
        drained += n;
    }
}

// Writes a refusal of a request whose body is not read, then closes: keep-alive off, and what
// the client is still sending of its declared body (at most `body_bytes`, 2 seconds) is read
// and discarded, so that the answer is not lost to a reset while a client that sends before it
// reads is still uploading.
asio::awaitable<void> refuse_unread_request(tls_stream& stream, http::response res,
                                            std::uint64_t body_bytes, shared_state& state) {
    http::apply_security_headers(res);
    res.keep_alive(false);
    state.http.metrics.count_response(res.result_int());
    beast::get_lowest_layer(stream).expires_after(state.limits.write_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
    if (!write_ec) co_await drain_input(stream, std::max<std::uint64_t>(body_bytes, 1024 * 1024));
}

// Before the body of a mail message (POST /api/v1/mail/send or /append, up to
// mail_max_message_bytes) is read: only from our Origin, only with a live login, and only within
// the budget of large bodies (global bytes, per-account count). The answer on refusal, or
// nullopt with `ticket` held until the request has been answered.
std::optional<http::response> admit_mail_body(const http::request& req, std::uint64_t length,
                                              shared_state& state, large_body_budget& budget,
                                              large_body_budget::ticket& ticket) {
    if (!http::origin_allowed(state.http.settings, req[bhttp::field::origin])) {
        return http::error_response(bhttp::status::forbidden, "forbidden_origin",
                                    "Requests that change state must come from this site.",
                                    req.version());
    }
    auto login = http::authenticate_request(req, state.http);
    if (!login) return http::error_response(auth::auth_error::not_authenticated, req.version());
    large_body_budget::refusal why{};
    ticket = budget.try_take(login->userid, length, why);
    if (ticket.held()) return std::nullopt;
    http::response res =
        why == large_body_budget::refusal::user_busy
            ? http::error_response(bhttp::status::too_many_requests, "rate_limited",
                                   "Too many messages are being uploaded at once for this "
                                   "account; wait for one to finish.",
                                   req.version())
            : http::error_response(bhttp::status::service_unavailable, "server_busy",
                                   "The server is receiving too many messages at once; try "
                                   "again in a few seconds.",
                                   req.version());
    res.set(bhttp::field::retry_after, "5");
    return res;
}

// Reads the body of a mail message admitted by admit_mail_body: the budget is charged for the
// bytes as they arrive; a body that, after min_body_rate_grace, has come slower on average than
// min_body_rate_bytes_per_s is ended (408 when it still trickles; when nothing comes, the
// stream's deadline, set to the moment the average would fall below the rate, closes it).
// `read_ec` set on a read error; the answer when the body is refused, nullopt when it is read.
asio::awaitable<std::optional<http::response>> read_mail_body(
    tls_stream& stream, beast::flat_buffer& buffer,
    bhttp::request_parser<bhttp::string_body>& parser, large_body_budget::ticket& ticket,
    std::chrono::steady_clock::time_point deadline, const net_limits& limits,
    beast::error_code& read_ec) {
    using clock = std::chrono::steady_clock;
    auto& lowest = beast::get_lowest_layer(stream);
    const auto start = clock::now();
    const std::uint64_t rate = std::max<std::uint64_t>(limits.min_body_rate_bytes_per_s, 1);
    const auto version = parser.get().version();
    auto received = [&] { return parser.get().body().size() + buffer.size(); };
    while (!parser.is_done()) {
        // With no more bytes, the average falls below the rate at this moment.
        const auto rate_point =
            start + std::max<clock::duration>(limits.min_body_rate_grace,
                                              std::chrono::milliseconds(received() * 1000 / rate));
        // Two seconds past that point: a body that still trickles (a byte a second) sends one
        // more byte in it and gets its 408; a silent one is closed at the deadline.
        lowest.expires_at(std::min(deadline, rate_point + std::chrono::seconds(2)));
        auto [ec, n] =
            co_await bhttp::async_read_some(stream, buffer, parser, as_tuple(use_awaitable));
        if (ec) {
            read_ec = ec;
            co_return std::nullopt;
        }
        if (!ticket.charge(received())) {
            http::response res =
                http::error_response(bhttp::status::service_unavailable, "server_busy",
                                     "The server is receiving too many messages at once; try "
                                     "again in a few seconds.",
                                     version);
            res.set(bhttp::field::retry_after, "5");
            co_return res;
        }
        const auto elapsed = clock::now() - start;
        if (!parser.is_done() && elapsed > limits.min_body_rate_grace &&
            received() * 1000 <
                rate *
                    static_cast<std::uint64_t>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count())) {
            co_return http::error_response(bhttp::status::request_timeout, "request_timeout",
                                           "The message arrived too slowly; try again on a "
                                           "faster connection.",
                                           version);
        }
    }
    co_return std::nullopt;
}

// Requests whose body holds a password: the connection's read buffer is wiped after them.
bool carries_password(const http::request& req) {
    auto path = http::normalise_request_path(req.target());
    if (!path) return false;
    const auto method = req.method();
    return (method == bhttp::verb::put && *path == "/api/v1/mail/account") ||
           (method == bhttp::verb::post &&
            (*path == "/api/v1/session" || *path == "/api/v1/accounts")) ||
           (method == bhttp::verb::put && *path == "/api/v1/me/password") ||
           (method == bhttp::verb::delete_ && *path == "/api/v1/me");
}

// Checks an upgrade to /ws: our Origin, a live login, the secms.v1 subprotocol, and a free place
// among the account's WebSockets (`ticket`, held by the connection until it ends).
std::optional<http::response> refuse_upgrade(const http::request& req, shared_state& state,
                                             std::optional<auth::login_session>& login,
                                             std::optional<channel::socket_ticket>& ticket) {
    if (!http::origin_allowed(state.http.settings, req[bhttp::field::origin])) {
        return http::error_response(bhttp::status::forbidden, "forbidden_origin",
                                    "WebSocket connections must come from this site.",
                                    req.version());
    }
    if (!offers_subprotocol(req[bhttp::field::sec_websocket_protocol])) {
        return http::error_response(bhttp::status::bad_request, "bad_subprotocol",
                                    "Use the secms.v1 WebSocket subprotocol.", req.version());
    }
    login = http::authenticate_request(req, state.http);
    if (!login) return http::error_response(auth::auth_error::not_authenticated, req.version());
    // Refused before the 101, so one login cannot hold the server's connection budget open.
    ticket = state.channels.reserve_socket(login->userid);
    if (!ticket) {
        return http::error_response(bhttp::status::too_many_requests, "too_many_connections",
                                    "This account has too many connections open.", req.version());
    }
    return std::nullopt;
}

// `slot` (held, unused) keeps the connection counted until the coroutine ends.
asio::awaitable<void> run_https_session(tcp::socket socket, shared_state& state,
                                        large_body_budget& large_bodies,
                                        [[maybe_unused]] connection_slot slot) {
    connection_guard guard(state.http.metrics);
    http::client_info client = client_of(socket);
    tls_stream stream(beast::tcp_stream(std::move(socket)), state.tls);
    auto& lowest = beast::get_lowest_layer(stream);

    // Counted from the accept: a client that connects and never sends a byte holds its slot
    // only this long.
    lowest.expires_after(state.limits.handshake_timeout);
    auto [hs_ec] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, as_tuple(use_awaitable));
    if (hs_ec) co_return fail(hs_ec, "tls handshake");

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(state.limits.max_header_bytes);
        parser.body_limit(state.limits.max_body_bytes);
        // Waiting for the next request on a kept-alive connection may last idle_timeout; reading
        // it, once started, read_timeout.
        lowest.expires_after(first ? state.limits.read_timeout : state.limits.idle_timeout);
        first = false;
        // The header first: a whole message may be posted to the two mail paths that take
        // one, so they get a bigger body limit and more time (one second per MiB on top). Beast
        // checks a Content-Length against the limit while it parses the header, so the header
        // is read under the bigger limit and every other request gets the normal one back (a
        // longer Content-Length is refused as before; chunked bodies are counted as they come).
        // The Origin, the login and the large-body budget are checked on the header, before a
        // byte of such a body is read: nobody without a login makes the server hold megabytes.
        const bool mail_bodies = state.limits.max_mail_body_bytes > state.limits.max_body_bytes;
        if (mail_bodies) parser.body_limit(state.limits.max_mail_body_bytes);
        large_body_budget::ticket body_ticket;
        auto [read_ec, n] =
            co_await bhttp::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
        if (!read_ec && mail_bodies) {
            if (takes_mail_body(parser.get())) {
                auto length = parser.content_length().value_or(state.limits.max_mail_body_bytes);
                length = std::min(length, state.limits.max_mail_body_bytes);
                if (auto refusal =
                        admit_mail_body(parser.get(), length, state, large_bodies, body_ticket)) {
                    co_await refuse_unread_request(stream, std::move(*refusal), length, state);
                    break;
                }
                const auto deadline = std::chrono::steady_clock::now() + state.limits.read_timeout +
                                      std::chrono::seconds(length / (1024 * 1024));
                if (!parser.is_done()) {
                    if (auto refusal = co_await read_mail_body(stream, buffer, parser, body_ticket,
                                                               deadline, state.limits, read_ec)) {
                        const std::uint64_t got = parser.get().body().size();
                        co_await refuse_unread_request(stream, std::move(*refusal),
                                                       length > got ? length - got : 0, state);
                        break;
                    }
                }
            } else if (parser.content_length().value_or(0) > state.limits.max_body_bytes) {
                read_ec = bhttp::error::body_limit;
            } else {
                parser.body_limit(state.limits.max_body_bytes);
            }
        }
        if (!read_ec && !parser.is_done()) {
            std::tie(read_ec, n) =
                co_await bhttp::async_read(stream, buffer, parser, as_tuple(use_awaitable));
        }
        if (read_ec) {
            if (is_parse_error(read_ec) || read_ec == bhttp::error::body_limit ||
                read_ec == bhttp::error::header_limit) {
                http::response res = parse_error_response(read_ec);
                http::apply_security_headers(res);
                res.keep_alive(false);
                state.http.metrics.count_response(res.result_int());
                lowest.expires_after(state.limits.write_timeout);
                co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
                // The client may still be sending the body we refused. Closing now would make
                // the kernel answer with a reset that destroys our response before the client
                // reads it (RFC 9112 §9.6): read and discard a bounded amount first.
                co_await drain_input(stream);
            } else {
                fail(read_ec, "read");
            }
            break;
        }
        http::request req = parser.release();
        if (carries_password(req)) wipe_read_buffer(buffer);

        if (beast::websocket::is_upgrade(req)) {
            auto path = http::normalise_request_path(req.target());
            std::optional<auth::login_session> login;
            std::optional<channel::socket_ticket> ticket;
            std::optional<http::response> refusal;
            if (!path || *path != "/ws") {
                refusal = http::error_response(bhttp::status::not_found, "not_found",
                                               "Nothing here.", req.version());
            } else {
                refusal = refuse_upgrade(req, state, login, ticket);
            }
            if (refusal) {
                http::apply_security_headers(*refusal);
                refusal->keep_alive(false);
                state.http.metrics.count_response(refusal->result_int());
                lowest.expires_after(state.limits.write_timeout);
                co_await bhttp::async_write(stream, *refusal, as_tuple(use_awaitable));
                break;
            }
            state.http.metrics.count_response(101);
            auto session = std::make_shared<websocket_session>(
                std::move(stream), state, std::move(*login), client.address, std::move(*ticket));
            co_await session->run(std::move(req));
            co_return;
        }

        http::response res = co_await http::handle_request(std::move(req), client, state.http);
        bool keep_alive = res.keep_alive();
        lowest.expires_after(state.limits.write_timeout);
        auto [write_ec, written] =
            co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
        if (write_ec) co_return fail(write_ec, "write");
        if (!keep_alive) break;
    }
    lowest.expires_after(std::chrono::seconds(5));
    auto [shutdown_ec] = co_await stream.async_shutdown(as_tuple(use_awaitable));
    fail(shutdown_ec, "tls shutdown");
}

// Plain HTTP: every request gets a permanent redirect to the same path on the public HTTPS
// origin. The Host header is not trusted, so this is no open redirect.
asio::awaitable<void> run_redirect_session(tcp::socket socket, shared_state& state,
                                           [[maybe_unused]] connection_slot slot) {
    connection_guard guard(state.http.metrics);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(state.limits.max_header_bytes);
    // A redirect request is a few hundred bytes: it gets the short handshake deadline, not the
    // read timeout of the API, so idle sockets cannot sit on the redirect budget.
    stream.expires_after(state.limits.handshake_timeout);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, as_tuple(use_awaitable));
    if (ec) co_return fail(ec, "redirect read");
    auto& req = parser.get();
    auto path = http::normalise_request_path(req.target());
    http::response res{bhttp::status::moved_permanently, req.version()};
    std::string target = path ? std::string(req.target()) : std::string("/");
    res.set(bhttp::field::location, state.http.settings.public_origin + target);
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = "This service is available over HTTPS only.\n";
    res.prepare_payload();
    http::apply_security_headers(res);
    res.keep_alive(false);
    state.http.metrics.count_response(301);
    stream.expires_after(state.limits.write_timeout);
    co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

// One listener: its acceptor, its budget of open connections, and the back-off timer of its
// accept loop.
struct listener {
    tcp::acceptor acceptor;
    asio::steady_timer backoff_timer;
    std::atomic<std::size_t> open{0};
    std::size_t max_open;
    const char* name;

    listener(asio::strand<asio::io_context::executor_type>& strand, std::size_t max,
             const char* what)
        : acceptor(strand), backoff_timer(strand), max_open(max), name(what) {}
};

struct server::impl {
    asio::io_context& io;
    shared_state state;
    // Acceptors and back-off timers are used only on this strand: the accept loops run on it,
    // and stop(), called from whatever thread, posts its work to it.
    asio::strand<asio::io_context::executor_type> strand;
    per_network_counter per_network;
    // Four whole messages' bytes in flight at once (charged as they arrive) for large bodies,
    // two per account, and one more message's worth that only messages of at most 1 MiB use.
    large_body_budget large_bodies;
    std::unique_ptr<listener> https;
    std::unique_ptr<listener> plain;

    impl(asio::io_context& context, shared_state s)
        : io(context),
          state(s),
          strand(asio::make_strand(context)),
          per_network(s.limits.max_connections_per_ip),
          large_bodies(5 * s.limits.max_mail_body_bytes, 2, s.limits.max_mail_body_bytes) {
        large_bodies.report_to(&s.http.metrics.mail_body_bytes_in_flight);
    }

    bool open(std::unique_ptr<listener>& l, const tcp::endpoint& ep, std::size_t max_open,
              const char* name, std::string& error) {
        l = std::make_unique<listener>(strand, max_open, name);
        auto& acceptor = l->acceptor;
        beast::error_code ec;
        acceptor.open(ep.protocol(), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(ep, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            error = "cannot listen on " + ep.address().to_string() + ":" +
                    std::to_string(ep.port()) + ": " + ec.message();
            return false;
        }
        return true;
    }

    template <class Session>
    asio::awaitable<void> accept_loop(listener& l, Session session) {
        accept_backoff backoff;
        std::size_t failed_in_burst = 0;
        while (l.acceptor.is_open()) {
            // Each connection gets its own strand: its handlers never run concurrently.
            auto [ec, socket] =
                co_await l.acceptor.async_accept(asio::make_strand(io), as_tuple(use_awaitable));
            if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) co_return;
            if (ec) {
                if (ec == asio::error::connection_aborted) continue;  // the client gave up
                // Out of descriptors or memory (or anything unexpected): the connection stays
                // queued, and accepting again at once would fail at once. Wait, doubling the
                // wait, and log once per burst instead of once per failure.
                ++failed_in_burst;
                if (!backoff.in_burst()) {
                    spdlog::warn("{}: accept failed: {}{}; pausing accepts", l.name,
                                 core::log_escape(ec.message()),
                                 is_resource_exhaustion(ec) ? " (raise the open-file limit)" : "");
                }
                l.backoff_timer.expires_after(backoff.next());
                co_await l.backoff_timer.async_wait(as_tuple(use_awaitable));
                continue;
            }
            if (backoff.in_burst()) {
                spdlog::info("{}: accepting again after {} failed accepts", l.name,
                             failed_in_burst);
                backoff.reset();
                failed_in_burst = 0;
            }
            beast::error_code ep_ec;
            auto peer = socket.remote_endpoint(ep_ec);
            auto slot = ep_ec ? std::nullopt
                              : try_take_slot(l.open, l.max_open, per_network, peer.address());
            if (!slot) {
                // The listener's budget or the client network's share is used up.
                ++state.http.metrics.connections_refused;
                beast::error_code ignored;
                socket.close(ignored);
                continue;
            }
            // Relay frames and API answers are small: send them at once instead of waiting for
            // the previous segment's delayed ACK (Nagle's algorithm costs ~40 ms per stall).
            beast::error_code nodelay_ec;
            socket.set_option(tcp::no_delay(true), nodelay_ec);
            auto executor = socket.get_executor();
            asio::co_spawn(executor, session(std::move(socket), state, std::move(*slot)),
                           [](std::exception_ptr e) {
                               if (!e) return;
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& ex) {
                                   spdlog::error("connection task failed: {}",
                                                 core::log_escape(ex.what()));
                               }
                           });
        }
    }

    // On the strand only.
    void close_listeners() {
        beast::error_code ignored;
        for (auto* l : {https.get(), plain.get()}) {
            if (l == nullptr) continue;
            l->acceptor.close(ignored);
            l->backoff_timer.cancel();
        }
    }
};

server::server(asio::io_context& io, shared_state state)
    : impl_(std::make_unique<impl>(io, state)) {}

server::~server() = default;

bool server::start(const endpoints& where, std::string& error) {
    if (!impl_->open(impl_->https, where.https, impl_->state.limits.max_connections, "https",
                     error)) {
        return false;
    }
    if (where.http_redirect &&
        !impl_->open(impl_->plain, *where.http_redirect,
                     impl_->state.limits.max_redirect_connections, "http redirect", error)) {
        return false;
    }
    auto https_session = [budget = &impl_->large_bodies](tcp::socket socket, shared_state& state,
                                                         connection_slot slot) {
        return run_https_session(std::move(socket), state, *budget, std::move(slot));
    };
    asio::co_spawn(impl_->strand, impl_->accept_loop(*impl_->https, https_session), asio::detached);
    if (impl_->plain) {
        asio::co_spawn(impl_->strand, impl_->accept_loop(*impl_->plain, run_redirect_session),
                       asio::detached);
    }
    return true;
}

void server::stop() {
    // Called from the signal handler's thread: the acceptors and timers belong to the strand.
    asio::post(impl_->strand, [this] { impl_->close_listeners(); });
    impl_->state.channels.close_all(channel::close_reason::going_away, "server shutting down");
}

tcp::endpoint server::https_endpoint() const {
    beast::error_code ec;
    return impl_->https ? impl_->https->acceptor.local_endpoint(ec) : tcp::endpoint{};
}

}  // namespace secms::net

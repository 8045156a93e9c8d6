#include "server/net/websocket_session.hpp"
#include "server/channel/relay_frame.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <array>

#include "server/auth/login_binding.hpp"
#include "server/channel/client_messages.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

bool offers_subprotocol(std::string_view header) {
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item == websocket_subprotocol) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

namespace {

constexpr std::size_t idle_read_buffer_bytes = 4096;

// Relayed frames are ciphertext, but the buffers are still wiped once the last queue drops them:
// nothing of a session outlives it in server memory.
// A string wiped when destroyed; made with make_shared, the copy and its count are one allocation.
struct wiped_string : std::string {
    using std::string::string;
    wiped_string(const wiped_string&) = delete;
    wiped_string& operator=(const wiped_string&) = delete;
    ~wiped_string() { core::wipe(data(), size()); }
};

channel::message_ptr wiped_copy(std::string_view data) {
    return std::make_shared<const wiped_string>(data);
}

}  // namespace

websocket_session::websocket_session(tls_stream stream, shared_state& state,
                                     auth::login_session login, std::string remote_address,
                                     channel::socket_ticket ticket)
    : ws_(std::move(stream)),
      state_(state),
      login_(std::move(login)),
      remote_address_(std::move(remote_address)),
      ticket_(std::move(ticket)) {
    const auto executor = ws_.get_executor();  // target() points into this object
    if (const auto* strand = executor.target<asio::strand<asio::io_context::executor_type>>()) {
        strand_ = *strand;
    }
    ++state_.http.metrics.websockets_open;
}

websocket_session::~websocket_session() {
    state_.channels.leave(this);  // idempotent; covers a coroutine destroyed at shutdown
    --state_.http.metrics.websockets_open;
}

asio::awaitable<void> websocket_session::run(http::request upgrade) {
    ws_.next_layer().keep_alive_with(weak_from_this());
    ws_.next_layer().on_room([this] { write_queued(); });  // runs while a batch holds `self`
    // The tcp_stream's own timer is replaced by the WebSocket's timeouts from here on.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = state_.limits.handshake_timeout;
    timeouts.idle_timeout = state_.limits.ws_idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(state_.limits.ws_max_message_bytes);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::sec_websocket_protocol, websocket_subprotocol);
        res.set(beast::http::field::server, "secms");
    }));
    // Already checked against the allowed origins (refuse_upgrade); named in possession challenges.
    std::string origin(upgrade[beast::http::field::origin]);
    auto [accept_ec] = co_await ws_.async_accept(upgrade, asio::as_tuple(asio::use_awaitable));
    if (accept_ec) co_return;

    auto self = shared_from_this();
    {
        boost::json::object user;
        user["userid"] = login_.userid;
        user["username"] = login_.username;
        user["role"] = store::to_string(login_.role);
        boost::json::object hello;
        hello["type"] = "hello";
        hello["user"] = std::move(user);
        enqueue({std::make_shared<const std::string>(boost::json::serialize(hello)), false});
    }
    // Joined only while the login lives, re-checked after joining (login_binding.hpp): a logout
    // racing this upgrade still closes the socket.
    if (!auth::join_while_logged_in(
            state_.http.sessions, login_.id,
            [&] {
                state_.channels.join(self, {login_.userid, login_.username, login_.id, login_.role,
                                            remote_address_, origin});
            },
            [&] { state_.channels.leave(this); })) {
        start_close(channel::close_reason::login_ended, "login session ended");
    }

    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        // closed, timeout (no pong), message too big, reset: all end this connection normally.
        if (ec) break;
        std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (ws_.got_text()) {
            co_await channel::handle_client_message(state_.channels, self, data,
                                                    state_.http.work_pool, state_.clock);
        } else if (auto congested_receiver = relay(data)) {
            co_await wait_while_congested(congested_receiver);
        }
        core::wipe(buffer.data().data(), buffer.size());
        buffer.consume(buffer.size());
        // Relay frames fit the buffer as it is; one large message (a certificate, a file chunk)
        // does not leave an idle connection holding its size.
        if (buffer.capacity() > idle_read_buffer_bytes) buffer.shrink_to_fit();
        // A login that ends (logout, password change, expiry found by the sweep) closes this
        // socket through login_sessions::on_ended. Traffic here is use of the login: refresh its
        // idle timer, at most once a minute to keep the hot path free of the sessions lock.
        auto now = std::chrono::steady_clock::now();
        if (now - last_login_refresh_ > std::chrono::minutes(1)) {
            last_login_refresh_ = now;
            if (!state_.http.sessions.refresh(login_.id)) {
                start_close(channel::close_reason::login_ended, "login session ended");
            }
        }
    }
    state_.channels.leave(this);
}

std::shared_ptr<channel::peer> websocket_session::relay(std::string_view frame) {
    // The hub checks the header, looks up the route and enqueues to the peer.
    auto routed = state_.channels.relay(this, wiped_copy(frame));
    if (!routed) {
        auto header = channel::parse_relay_header(frame);
        enqueue({std::make_shared<const std::string>(channel::error_message(
                     routed.error(), header ? header->session_id : std::string_view{})),
                 false});
        return nullptr;
    }
    // (A chat room frame names a receiver only when one of its receivers is congested.)
    if (!routed->receiver || !routed->receiver->congested()) return nullptr;
    return std::move(routed->receiver);
}

// Backpressure: while the receiver has much unsent, stop reading from this sender, so TCP slows
// it down instead of the server buffering without bound. A receiver that stays stuck is dropped by
// its own queue limit.
asio::awaitable<void> websocket_session::wait_while_congested(
    const std::shared_ptr<channel::peer>& receiver) {
    asio::steady_timer wait(ws_.get_executor());
    for (int i = 0; i < 500 && receiver->congested(); ++i) {
        wait.expires_after(std::chrono::milliseconds(10));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

bool websocket_session::congested() const {
    return queued_bytes_shared_.load() + posted_bytes_.load() > state_.limits.ws_queue_bytes / 2 ||
           queued_count_shared_.load() + posted_count_.load() > state_.limits.ws_queue_messages / 2;
}

void websocket_session::publish_queue_size() {
    queued_bytes_shared_ = queued_bytes_;
    queued_count_shared_ = queue_.size();
}

template <class F>
void websocket_session::post_to_strand(F&& f) {
    if (strand_) {
        asio::post(*strand_, std::forward<F>(f));
    } else {
        asio::post(ws_.get_executor(), std::forward<F>(f));
    }
}

void websocket_session::send_text(channel::message_ptr message) {
    post_counted(std::move(message), false);
}

void websocket_session::send_binary(channel::message_ptr message) {
    post_counted(std::move(message), true);
}

void websocket_session::post_counted(channel::message_ptr message, bool binary) {
    const std::size_t size = message->size();
    posted_bytes_ += size;
    ++posted_count_;
    post_to_strand(
        [self = shared_from_this(), message = std::move(message), binary, size]() mutable {
            // Queued (or refused) in the same step as it stops counting as posted.
            self->enqueue({std::move(message), binary});
            self->posted_bytes_ -= size;
            --self->posted_count_;
        });
}

void websocket_session::close(channel::close_reason code, std::string_view reason) {
    post_to_strand(
        [self = shared_from_this(), code, r = std::string(reason)] { self->start_close(code, r); });
}

void websocket_session::enqueue(outgoing message) {
    if (closing_) return;
    if (queue_.size() >= state_.limits.ws_queue_messages ||
        queued_bytes_ + message.data->size() > state_.limits.ws_queue_bytes) {
        // Bounded memory: a client that does not read is dropped, never buffered without end.
        spdlog::info("websocket userid={} dropped: write queue full", login_.userid);
        drop();
        return;
    }
    queued_bytes_ += message.data->size();
    queue_.push_back(std::move(message));
    write_queued();
}

namespace {

// The header of one unmasked, unfragmented WebSocket frame (RFC 6455 §5.2) as a server sends it.
std::string_view frame_header(std::array<char, 10>& out, bool binary, std::size_t length) {
    out[0] = static_cast<char>(0x80 | (binary ? 0x2 : 0x1));  // FIN, opcode
    if (length < 126) {
        out[1] = static_cast<char>(length);
        return {out.data(), 2};
    }
    if (length <= 0xffff) {
        out[1] = 126;
        out[2] = static_cast<char>(length >> 8);
        out[3] = static_cast<char>(length & 0xff);
        return {out.data(), 4};
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(length >> (56 - 8 * i));
    return {out.data(), 10};
}

}  // namespace

// Queued messages go, in order, into the outgoing batch while it has room (it calls back when it
// has more). Each is framed here: Beast's write would cost an operation per message.
void websocket_session::write_queued() {
    std::array<char, 10> header{};
    while (!queue_.empty()) {
        const outgoing& next = queue_.front();
        if (!ws_.next_layer().try_append(frame_header(header, next.binary, next.data->size()),
                                         *next.data)) {
            break;
        }
        queued_bytes_ -= next.data->size();
        queue_.pop_front();  // a relayed copy is wiped here, when its last holder lets go
    }
    publish_queue_size();
}

void websocket_session::start_close(channel::close_reason code, std::string reason) {
    if (closing_) return;
    closing_ = true;
    // What is in the outgoing batch goes before the close frame; what still waits for room is
    // not sent.
    queue_.clear();
    queued_bytes_ = 0;
    publish_queue_size();
    websocket::close_reason why(static_cast<websocket::close_code>(code), std::move(reason));
    ws_.async_close(why, [self = shared_from_this()](beast::error_code) {});
}

void websocket_session::drop() {
    closing_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    publish_queue_size();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace secms::net

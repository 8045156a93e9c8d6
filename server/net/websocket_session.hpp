// One application WebSocket (subprotocol secms.v1): reads control messages, writes through a
// bounded queue into batches (write_coalescing_stream), and is dropped when the client cannot keep
// up.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <deque>
#include <memory>

#include "server/auth/login_sessions.hpp"
#include "server/channel/channel_hub.hpp"
#include "server/channel/peer.hpp"
#include "server/http/types.hpp"
#include "server/net/server.hpp"
#include "server/net/write_coalescing_stream.hpp"

namespace secms::net {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

inline constexpr std::string_view websocket_subprotocol = "secms.v1";

// Whether a Sec-WebSocket-Protocol header offers our subprotocol.
bool offers_subprotocol(std::string_view header);

class websocket_session final : public channel::peer,
                                public std::enable_shared_from_this<websocket_session> {
  public:
    // `remote_address` is the client's IP address (shown to moderators by the chat's whois);
    // `ticket` counts this socket against its account's cap while it lives.
    websocket_session(tls_stream stream, shared_state& state, auth::login_session login,
                      std::string remote_address, channel::socket_ticket ticket);
    ~websocket_session() override;

    // Completes the upgrade and serves the connection until it closes.
    boost::asio::awaitable<void> run(http::request upgrade);

    void send_text(channel::message_ptr message) override;
    void send_binary(channel::message_ptr message) override;
    bool congested() const override;
    void close(channel::close_reason code, std::string_view reason) override;

  private:
    struct outgoing {
        channel::message_ptr data;
        bool binary = false;
    };
    // Routes one binary frame; returns the receiver to wait for when it is congested.
    std::shared_ptr<channel::peer> relay(std::string_view frame);
    boost::asio::awaitable<void> wait_while_congested(
        const std::shared_ptr<channel::peer>& receiver);
    // Runs `f` on this connection's strand (from any thread).
    template <class F>
    void post_to_strand(F&& f);
    // Posts one outgoing message to this strand, counted as posted until it is queued.
    void post_counted(channel::message_ptr message, bool binary);
    void enqueue(outgoing message);
    void write_queued();
    void publish_queue_size();
    void start_close(channel::close_reason code, std::string reason);
    void drop();

    // Frames this connection writes gather below the WebSocket and leave in batches.
    boost::beast::websocket::stream<write_coalescing_stream<tls_stream>> ws_;
    // The connection's strand as its concrete type: posting a frame to it then costs no
    // type-erased executor copies (null if the socket was made without a strand).
    std::optional<boost::asio::strand<boost::asio::io_context::executor_type>> strand_;
    shared_state& state_;
    auth::login_session login_;
    std::string remote_address_;
    channel::socket_ticket ticket_;
    std::deque<outgoing> queue_;
    std::size_t queued_bytes_ = 0;
    // Copies of the queue's size readable from other threads (relay backpressure).
    std::atomic<std::size_t> queued_bytes_shared_{0};
    std::atomic<std::size_t> queued_count_shared_{0};
    // Messages posted to this strand and not yet queued: counted at once, so a sender relaying a
    // burst sees them before this strand runs (else the check reads a stale, small queue and the
    // burst overflows it, dropping a receiver that reads normally).
    std::atomic<std::size_t> posted_bytes_{0};
    std::atomic<std::size_t> posted_count_{0};
    std::chrono::steady_clock::time_point last_login_refresh_ = std::chrono::steady_clock::now();
    bool closing_ = false;
};

}  // namespace secms::net

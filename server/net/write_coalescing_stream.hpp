// A stream layer between the WebSocket and TLS that gathers what is written into one buffer and
// hands it to TLS in one write: the frames a connection sends in a burst leave together — one TLS
// record and one send() for the batch instead of one of each per frame, which was most of the
// relay's cost per frame.
//
// Two ways in: the WebSocket's own writes (handshake answer, ping, pong, close) through
// async_write_some, and whole frames the connection framed itself through try_append (Beast
// writes one message per operation, with its allocations and two posts; a relayed frame needs
// none of that). Bytes are sent from a handler posted to the connection's strand, so frames
// already on their way there join the batch (as Node sends what one tick wrote); while more keep
// arriving the send is put off a few more turns (at most max_deferrals), never beyond max_batch.
// The WebSocket's own writes are sent at once (behind a batch already on its way).
// Memory is bounded: max_batch gathered (or one larger message) plus one batch being sent; a
// write that finds the batch full waits, and try_append refuses, until the send completes (then
// on_room is called). The gathered bytes are plaintext frames: they are wiped when sent or dropped.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "server/core/secure_bytes.hpp"

namespace secms::net {

template <class NextLayer>
class write_coalescing_stream {
  public:
    using executor_type = typename NextLayer::executor_type;
    using next_layer_type = NextLayer;
    // One TLS record's worth of plaintext: a full batch is one record.
    static constexpr std::size_t max_batch = 16 * 1024;
    static constexpr int max_deferrals = 8;

    explicit write_coalescing_stream(NextLayer&& next) : next_(std::move(next)) {}
    write_coalescing_stream(const write_coalescing_stream&) = delete;
    write_coalescing_stream& operator=(const write_coalescing_stream&) = delete;
    ~write_coalescing_stream() {
        discard(pending_);
        discard(in_flight_);
    }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    NextLayer& next_layer() noexcept { return next_; }
    const NextLayer& next_layer() const noexcept { return next_; }

    // What keeps the layer (and the stream below it) alive while a batch is being sent: the
    // owning connection. Set once, before the first write.
    void keep_alive_with(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
    // Called (on the strand) when a batch was sent and try_append may take more.
    void on_room(std::function<void()> callback) { room_ = std::move(callback); }

    // Appends one whole frame framed by the layer above if it can go now: not while one of the
    // WebSocket's own writes is half taken or waiting (frames never interleave), and within
    // max_batch unless the batch is empty (a large message then makes a batch of its own).
    bool try_append(std::string_view header, std::string_view body) {
        if (failed_ || partial_ || waiting_) return false;
        const std::size_t size = header.size() + body.size();
        if (!pending_.empty() && pending_.size() + size > max_batch) {
            maybe_flush(true);
            return false;
        }
        reserve_wiped(pending_, pending_.size() + size);
        pending_.insert(pending_.end(), header.begin(), header.end());
        pending_.insert(pending_.end(), body.begin(), body.end());
        appended_ = true;
        if (pending_.size() >= max_batch || drain_) {
            maybe_flush(true);
        } else {
            schedule_flush();
        }
        return true;
    }

    // Completes once everything written so far has been handed to the next layer (the closing
    // handshake's last frame must leave before TLS closes).
    template <class DrainHandler>
    void async_drain(DrainHandler&& handler) {
        drain_handler drained(std::forward<DrainHandler>(handler));
        if (drain_ || (!flushing_ && pending_.empty() && !waiting_)) {
            boost::asio::post(get_executor(),
                              boost::asio::append(std::move(drained), boost::beast::error_code{}));
            return;
        }
        drain_ = std::move(drained);
        maybe_flush(true);
    }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return next_.async_read_some(buffers, std::forward<ReadToken>(token));
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return boost::asio::async_initiate<WriteToken, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& data) {
                std::vector<boost::asio::const_buffer> pieces(
                    boost::asio::buffer_sequence_begin(data),
                    boost::asio::buffer_sequence_end(data));
                accept({std::move(pieces), std::move(handler)});
            },
            token, buffers);
    }

  private:
    using write_handler =
        boost::asio::any_completion_handler<void(boost::beast::error_code, std::size_t)>;
    using drain_handler = boost::asio::any_completion_handler<void(boost::beast::error_code)>;
    struct write_request {
        std::vector<boost::asio::const_buffer> data;
        write_handler handler;
    };

    static void discard(std::vector<char>& bytes) {
        core::wipe(bytes.data(), bytes.size());
        bytes.clear();
    }
    // Grows the batch without leaving a copy of its bytes behind in freed memory.
    static void reserve_wiped(std::vector<char>& bytes, std::size_t needed) {
        if (bytes.capacity() >= needed) return;
        std::vector<char> bigger;
        bigger.reserve(std::max(needed, max_batch));
        bigger.assign(bytes.begin(), bytes.end());
        discard(bytes);
        bytes.swap(bigger);
    }
    // Idle connections keep no batch memory (thousands of them are mostly idle).
    static void discard_and_free(std::vector<char>& bytes) {
        discard(bytes);
        std::vector<char>().swap(bytes);
    }

    void complete(write_handler handler, boost::beast::error_code ec, std::size_t n) {
        boost::asio::post(get_executor(), boost::asio::append(std::move(handler), ec, n));
    }

    // Copies what fits into the batch and completes the write; a write finding the batch full
    // waits (there is at most one: the WebSocket writes one frame at a time).
    void accept(write_request request) {
        if (failed_) return complete(std::move(request.handler), failed_, 0);
        std::size_t room = max_batch > pending_.size() ? max_batch - pending_.size() : 0;
        std::size_t size = boost::asio::buffer_size(request.data);
        if (room == 0 && size > 0) {
            waiting_.emplace(std::move(request));
            maybe_flush(true);
            return;
        }
        std::size_t n = std::min(room, size);
        std::size_t at = pending_.size();
        reserve_wiped(pending_, at + n);
        pending_.resize(at + n);
        boost::asio::buffer_copy(boost::asio::buffer(pending_.data() + at, n), request.data);
        appended_ = true;
        partial_ = n < size;  // the rest follows in the next call: nothing may come between
        complete(std::move(request.handler), {}, n);
        // The WebSocket's own frames (the handshake answer, pong, close) are few: they go at once.
        maybe_flush(true);
        if (!partial_ && room_) room_();
    }

    void finish_drain(boost::beast::error_code ec) {
        if (!drain_) return;
        auto drained = std::move(*drain_);
        drain_.reset();
        boost::asio::post(get_executor(), boost::asio::append(std::move(drained), ec));
    }

    void schedule_flush() {
        if (flush_posted_ || pending_.empty()) return;
        auto owner = owner_.lock();
        if (!owner) return;
        flush_posted_ = true;
        appended_ = false;
        boost::asio::post(get_executor(), [this, owner = std::move(owner)] { on_flush_turn(); });
    }

    void on_flush_turn() {
        flush_posted_ = false;
        if (appended_ && deferrals_ < max_deferrals && !flushing_) {
            ++deferrals_;  // more came in since: let what else is on its way join
            schedule_flush();
            return;
        }
        deferrals_ = 0;
        maybe_flush(true);  // when a batch is already on its way, its end sends this one
    }

    void maybe_flush(bool wanted) {
        if (!wanted || flushing_ || pending_.empty()) return;
        auto owner = owner_.lock();
        if (!owner) return;  // the connection is going away: nothing more is sent
        flushing_ = true;
        std::swap(pending_, in_flight_);
        boost::asio::async_write(next_, boost::asio::buffer(in_flight_),
                                 [this, owner = std::move(owner)](boost::beast::error_code ec,
                                                                  std::size_t) { on_flushed(ec); });
    }

    void on_flushed(boost::beast::error_code ec) {
        flushing_ = false;
        if (ec) {
            failed_ = ec;
            discard_and_free(in_flight_);
            discard_and_free(pending_);
            if (waiting_) {
                auto request = std::move(*waiting_);
                waiting_.reset();
                complete(std::move(request.handler), ec, 0);
            }
            finish_drain(ec);
            return;
        }
        discard(in_flight_);
        if (waiting_) {  // the WebSocket's own write first
            auto request = std::move(*waiting_);
            waiting_.reset();
            accept(std::move(request));
        } else if (room_) {
            room_();
        }
        if (drain_) {
            maybe_flush(true);
            if (!flushing_ && pending_.empty()) finish_drain({});
        } else {
            schedule_flush();
        }
        if (pending_.empty() && !flushing_) {  // idle: keep no batch memory
            discard_and_free(in_flight_);
            discard_and_free(pending_);
        }
    }

    NextLayer next_;
    std::weak_ptr<void> owner_;
    std::vector<char> pending_;    // gathered, not yet handed to the next layer
    std::vector<char> in_flight_;  // the batch being written
    std::optional<write_request> waiting_;
    std::optional<drain_handler> drain_;
    boost::beast::error_code failed_;
    std::function<void()> room_;
    bool partial_ = false;  // a WebSocket write was taken in part
    bool flushing_ = false;
    bool flush_posted_ = false;
    bool appended_ = false;  // bytes came in since the flush turn was posted
    int deferrals_ = 0;
};

// The WebSocket's closing handshake ends with the next layer's (TLS close_notify, then TCP).
// What is still gathered (the close frame) is sent first.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, write_coalescing_stream<NextLayer>& stream,
                    TeardownHandler&& handler) {
    stream.async_drain([&stream, role, done = std::forward<TeardownHandler>(handler)](
                           boost::beast::error_code) mutable {
        using boost::beast::websocket::async_teardown;
        async_teardown(role, stream.next_layer(), std::move(done));
    });
}

template <class NextLayer>
void teardown(boost::beast::role_type role, write_coalescing_stream<NextLayer>& stream,
              boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

}  // namespace secms::net

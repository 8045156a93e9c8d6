// Counting open connections per client network, so that one address cannot take every slot.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace secms::net {

// The network a connection is counted against: an IPv4 address, or the /64 prefix of an IPv6
// address (RFC 4291 §2.5.4: a /64 is one subnet, usually all held by one customer, so counting
// single IPv6 addresses would give one host 2^64 budgets). IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2, as a dual-stack listener reports them) count as IPv4.
using network_key = std::array<std::uint8_t, 16>;
network_key network_of(const boost::asio::ip::address& address);

// Open connections per network, with a cap. Thread-safe.
class per_network_counter {
  public:
    explicit per_network_counter(std::size_t cap) : cap_(cap) {}

    // Counts one more connection from `key`; false, counting nothing, when it has `cap` already.
    bool try_add(const network_key& key);
    void remove(const network_key& key);
    std::size_t open(const network_key& key) const;

  private:
    std::size_t cap_;
    mutable std::mutex mutex_;
    std::map<network_key, std::size_t> open_;
};

// One accepted connection's place in the global budget of its listener and in the per-network
// count; given back when the connection ends. Move-only.
class connection_slot {
  public:
    connection_slot() = default;
    connection_slot(std::atomic<std::size_t>* global, per_network_counter* per_network,
                    const network_key& key)
        : global_(global), per_network_(per_network), key_(key) {}
    connection_slot(connection_slot&& other) noexcept
        : global_(other.global_), per_network_(other.per_network_), key_(other.key_) {
        other.global_ = nullptr;
        other.per_network_ = nullptr;
    }
    connection_slot& operator=(connection_slot&&) = delete;
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    ~connection_slot() {
        if (global_ != nullptr) --*global_;
        if (per_network_ != nullptr) per_network_->remove(key_);
    }

  private:
    std::atomic<std::size_t>* global_ = nullptr;
    per_network_counter* per_network_ = nullptr;
    network_key key_{};
};

// A slot when both the listener's budget (`global` below `global_cap`) and the network's cap
// allow one; nullopt, with nothing counted, otherwise.
std::optional<connection_slot> try_take_slot(std::atomic<std::size_t>& global,
                                             std::size_t global_cap,
                                             per_network_counter& per_network,
                                             const boost::asio::ip::address& address);

}  // namespace secms::net

namespace secms::net {

// The wait before accepting again after the kernel refused an accept for lack of resources
// (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending connection stays in the backlog, so accepting
// again at once fails again at once, and the loop would burn a core doing nothing.
class accept_backoff {
  public:
    static constexpr std::chrono::milliseconds first{50};
    static constexpr std::chrono::milliseconds longest{1000};

    // The wait after one more failure: 50 ms, doubling, at most 1 s.
    std::chrono::milliseconds next() {
        current_ = current_.count() == 0 ? first : std::min(current_ * 2, longest);
        return current_;
    }
    // After an accept that worked.
    void reset() { current_ = std::chrono::milliseconds{0}; }
    bool in_burst() const { return current_.count() != 0; }

  private:
    std::chrono::milliseconds current_{0};
};

// Whether an accept failed because the process or system ran out of descriptors or memory.
bool is_resource_exhaustion(const boost::system::error_code& ec);

}  // namespace secms::net

namespace secms::net {

// The request bodies of the two mail paths may be a whole message (mail_max_message_bytes):
// bytes held by the server until the request is answered. This budget caps them in all (bytes)
// and per account (requests at once). A place is taken after the header is read and the login
// checked, before any of the body is, and given back when the answer has been written.
// A body is charged for the bytes that have arrived, not for its declared length, so an upload
// that trickles holds next to nothing (and the reader ends it for slowness, see
// min_body_rate). Bodies declared larger than small_body_bytes (or chunked) may use the budget
// only up to max_bytes - small_share: the rest is kept for small messages, which no number of
// large uploads can then lock out. Thread-safe.
class large_body_budget {
  public:
    enum class refusal {
        server_busy,  // the global byte budget is used up: 503, try again later
        user_busy,    // this account has max_per_user large bodies in flight: 429
    };
    // A body declared at most this long is a small message: it may use the kept share.
    static constexpr std::uint64_t small_body_bytes = 1024 * 1024;
    // Charged when the place is taken, before any byte has arrived: room for the first reads.
    static constexpr std::uint64_t first_charge_bytes = 64 * 1024;

    // `small_share` (at most max_bytes) is kept for small bodies.
    large_body_budget(std::uint64_t max_bytes, std::size_t max_per_user, std::uint64_t small_share)
        : max_bytes_(max_bytes),
          max_per_user_(max_per_user),
          small_share_(std::min(small_share, max_bytes)) {}

    // A held place; releases on destruction. Move-only.
    class ticket {
      public:
        ticket() = default;
        ticket(large_body_budget* owner, std::int64_t userid, std::uint64_t bytes, bool small)
            : owner_(owner), userid_(userid), bytes_(bytes), small_(small) {}
        ticket(ticket&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)),
              userid_(other.userid_),
              bytes_(other.bytes_),
              small_(other.small_) {}
        ticket& operator=(ticket&& other) noexcept {
            if (this != &other) {
                release();
                owner_ = std::exchange(other.owner_, nullptr);
                userid_ = other.userid_;
                bytes_ = other.bytes_;
                small_ = other.small_;
            }
            return *this;
        }
        ticket(const ticket&) = delete;
        ticket& operator=(const ticket&) = delete;
        ~ticket() { release(); }
        bool held() const { return owner_ != nullptr; }
        std::uint64_t charged() const { return bytes_; }

        // Raises the charge to `received` bytes (never lowers it); false, charging nothing more,
        // when the budget has no room for them: the body is then refused with 503.
        bool charge(std::uint64_t received) {
            if (owner_ == nullptr) return false;
            if (received <= bytes_) return true;
            if (!owner_->grow(received - bytes_, small_)) return false;
            bytes_ = received;
            return true;
        }

      private:
        void release() {
            if (owner_ != nullptr) owner_->give_back(userid_, bytes_);
            owner_ = nullptr;
        }
        large_body_budget* owner_ = nullptr;
        std::int64_t userid_ = 0;
        std::uint64_t bytes_ = 0;
        bool small_ = false;
    };

    // A place for a body declared `declared` bytes long (the Content-Length, or the limit when
    // chunked) for `userid`, charged first_charge_bytes (at most `declared`); `refusal` set and
    // an empty ticket when there is none.
    ticket try_take(std::int64_t userid, std::uint64_t declared, refusal& why);

    std::uint64_t bytes_in_flight() const;
    // Mirrors bytes_in_flight() into `gauge` (the metric secms_mail_body_bytes_in_flight).
    void report_to(std::atomic<std::int64_t>* gauge);

  private:
    // The bytes a body of this kind may use in all.
    std::uint64_t cap_for(bool small) const {
        return small ? max_bytes_ : max_bytes_ - small_share_;
    }
    bool grow(std::uint64_t more, bool small);
    void give_back(std::int64_t userid, std::uint64_t bytes);

    void publish_locked() const;

    std::uint64_t max_bytes_;
    std::size_t max_per_user_;
    std::uint64_t small_share_;
    std::atomic<std::int64_t>* gauge_ = nullptr;
    mutable std::mutex mutex_;
    std::uint64_t in_flight_ = 0;
    std::map<std::int64_t, std::size_t> per_user_;
};

}  // namespace secms::net

#include "server/net/connection_limits.hpp"

#include <algorithm>

namespace secms::net {

network_key network_of(const boost::asio::ip::address& address) {
    network_key key{};
    if (address.is_v4()) {
        auto v4 = address.to_v4().to_bytes();
        key[10] = 0xff;  // stored as ::ffff:a.b.c.d, so both spellings give one key
        key[11] = 0xff;
        std::copy(v4.begin(), v4.end(), key.begin() + 12);
        return key;
    }
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped())
        return network_of(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
    auto bytes = v6.to_bytes();
    std::copy(bytes.begin(), bytes.begin() + 8, key.begin());  // the /64 prefix only
    key[8] = 0x01;  // never equal to an IPv4 key, whose bytes 8 to 11 are 00 00 ff ff
    return key;
}

bool per_network_counter::try_add(const network_key& key) {
    std::lock_guard lock(mutex_);
    auto& n = open_[key];
    if (n >= cap_) {
        if (n == 0) open_.erase(key);
        return false;
    }
    ++n;
    return true;
}

void per_network_counter::remove(const network_key& key) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(key);
    if (it == open_.end()) return;
    if (--it->second == 0) open_.erase(it);
}

std::size_t per_network_counter::open(const network_key& key) const {
    std::lock_guard lock(mutex_);
    auto it = open_.find(key);
    return it == open_.end() ? 0 : it->second;
}

std::optional<connection_slot> try_take_slot(std::atomic<std::size_t>& global,
                                             std::size_t global_cap,
                                             per_network_counter& per_network,
                                             const boost::asio::ip::address& address) {
    // Reserve in the global budget first (compare-and-swap, so two accept loops cannot both take
    // the last slot), then in the network's count; undo the first when the second refuses.
    std::size_t current = global.load();
    do {
        if (current >= global_cap) return std::nullopt;
    } while (!global.compare_exchange_weak(current, current + 1));
    auto key = network_of(address);
    if (!per_network.try_add(key)) {
        --global;
        return std::nullopt;
    }
    return std::optional<connection_slot>(std::in_place, &global, &per_network, key);
}

bool is_resource_exhaustion(const boost::system::error_code& ec) {
    // Compared as error conditions, so the system category (what accept reports) and the
    // generic one both match.
    namespace errc = boost::system::errc;
    return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
           ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

}  // namespace secms::net

namespace secms::net {

large_body_budget::ticket large_body_budget::try_take(std::int64_t userid, std::uint64_t declared,
                                                      refusal& why) {
    std::lock_guard lock(mutex_);
    auto& mine = per_user_[userid];
    if (mine >= max_per_user_) {
        if (mine == 0) per_user_.erase(userid);
        why = refusal::user_busy;
        return {};
    }
    const bool small = declared <= small_body_bytes;
    const std::uint64_t first = std::min(declared, first_charge_bytes);
    const std::uint64_t cap = cap_for(small);
    if (first > cap || in_flight_ > cap - first) {
        if (mine == 0) per_user_.erase(userid);
        why = refusal::server_busy;
        return {};
    }
    ++mine;
    in_flight_ += first;
    publish_locked();
    return ticket(this, userid, first, small);
}

bool large_body_budget::grow(std::uint64_t more, bool small) {
    std::lock_guard lock(mutex_);
    const std::uint64_t cap = cap_for(small);
    if (more > cap || in_flight_ > cap - more) return false;
    in_flight_ += more;
    publish_locked();
    return true;
}

void large_body_budget::report_to(std::atomic<std::int64_t>* gauge) {
    std::lock_guard lock(mutex_);
    gauge_ = gauge;
    publish_locked();
}

void large_body_budget::publish_locked() const {
    if (gauge_ != nullptr) gauge_->store(static_cast<std::int64_t>(in_flight_));
}

std::uint64_t large_body_budget::bytes_in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
}

void large_body_budget::give_back(std::int64_t userid, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    in_flight_ -= bytes;
    publish_locked();
    auto it = per_user_.find(userid);
    if (it != per_user_.end() && --it->second == 0) per_user_.erase(it);
}

}  // namespace secms::net

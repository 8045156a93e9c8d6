#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <array>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <string_view>

#include "server/net/buffer_wipe.hpp"
#include "server/net/connection_limits.hpp"
#include "server/net/websocket_session.hpp"

namespace secms::net {
namespace {

TEST(WebSocketSubprotocol, FindsOursInAList) {
    EXPECT_TRUE(offers_subprotocol("secms.v1"));
    EXPECT_TRUE(offers_subprotocol("chat, secms.v1"));
    EXPECT_TRUE(offers_subprotocol(" secms.v1 ,x"));
    EXPECT_FALSE(offers_subprotocol(""));
    EXPECT_FALSE(offers_subprotocol("secms.v2"));
    EXPECT_FALSE(offers_subprotocol("secms.v1x"));
}

// The password of a parsed request is gone from the buffer's storage; what follows it stays.
TEST(ReadBufferWipe, WipesParsedBytesAndKeepsTheUnread) {
    boost::beast::flat_buffer buffer;
    const std::string_view request =
        "PUT /api/v1/mail/account HTTP/1.1\r\n\r\n{\"password\":\"Xq7-SENTINEL\"}";
    const std::string_view next = "GET /next HTTP/1.1\r\n";
    buffer.commit(
        boost::asio::buffer_copy(buffer.prepare(request.size() + next.size()),
                                 std::array{boost::asio::buffer(request.data(), request.size()),
                                            boost::asio::buffer(next.data(), next.size())}));
    buffer.consume(request.size());
    const char* begin_before = static_cast<const char*>(buffer.data().data()) - request.size();
    ASSERT_NE(std::string_view(begin_before, request.size()).find("SENTINEL"),
              std::string_view::npos);
    wipe_read_buffer(buffer);
    EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), next);
    // Same storage (capacity suffices): the place the request was in holds no secret any more.
    EXPECT_EQ(std::string_view(begin_before, request.size()).find("SENTINEL"),
              std::string_view::npos);
}

boost::asio::ip::address ip(const char* text) {
    return boost::asio::ip::make_address(text);
}

TEST(NetworkOf, Ipv4AddressesAreTheirOwnNetwork) {
    EXPECT_EQ(network_of(ip("127.0.0.1")), network_of(ip("127.0.0.1")));
    EXPECT_NE(network_of(ip("127.0.0.1")), network_of(ip("127.0.0.2")));
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: the same client.
    EXPECT_EQ(network_of(ip("::ffff:192.0.2.7")), network_of(ip("192.0.2.7")));
}

TEST(NetworkOf, Ipv6AddressesCountByTheirSlash64) {
    EXPECT_EQ(network_of(ip("2001:db8:1:2::1")), network_of(ip("2001:db8:1:2:ffff:1:2:3")));
    EXPECT_NE(network_of(ip("2001:db8:1:2::1")), network_of(ip("2001:db8:1:3::1")));
    // No IPv6 prefix shares a key with an IPv4 address.
    EXPECT_NE(network_of(ip("::1")), network_of(ip("0.0.0.1")));
    EXPECT_NE(network_of(ip("::")), network_of(ip("0.0.0.0")));
}

TEST(PerNetworkCounter, RefusesPastTheCapAndCountsAgainAfterRemove) {
    per_network_counter counter(2);
    auto a = network_of(ip("198.51.100.1"));
    auto b = network_of(ip("198.51.100.2"));
    EXPECT_TRUE(counter.try_add(a));
    EXPECT_TRUE(counter.try_add(a));
    EXPECT_FALSE(counter.try_add(a));
    EXPECT_EQ(counter.open(a), 2u);
    EXPECT_TRUE(counter.try_add(b));  // another address is not affected
    counter.remove(a);
    EXPECT_TRUE(counter.try_add(a));
    counter.remove(b);
    EXPECT_EQ(counter.open(b), 0u);
}

TEST(ConnectionSlot, TakesFromBothBudgetsAndGivesBackWhenDestroyed) {
    std::atomic<std::size_t> open{0};
    per_network_counter per_ip(2);
    {
        auto first = try_take_slot(open, 3, per_ip, ip("203.0.113.5"));
        auto second = try_take_slot(open, 3, per_ip, ip("203.0.113.5"));
        ASSERT_TRUE(first && second);
        // The address has its share: refused, and nothing is counted for the refusal.
        EXPECT_FALSE(try_take_slot(open, 3, per_ip, ip("203.0.113.5")));
        EXPECT_EQ(open.load(), 2u);
        auto other = try_take_slot(open, 3, per_ip, ip("203.0.113.6"));
        ASSERT_TRUE(other);
        // The listener's budget is used up: refused for a fresh address too.
        EXPECT_FALSE(try_take_slot(open, 3, per_ip, ip("203.0.113.7")));
        EXPECT_EQ(per_ip.open(network_of(ip("203.0.113.7"))), 0u);
        auto moved = std::move(*first);  // a moved-from slot gives nothing back
        first.reset();
        EXPECT_EQ(open.load(), 3u);
    }
    EXPECT_EQ(open.load(), 0u);
    EXPECT_EQ(per_ip.open(network_of(ip("203.0.113.5"))), 0u);
}

TEST(AcceptBackoff, DoublesFrom50msTo1sAndResets) {
    accept_backoff backoff;
    EXPECT_FALSE(backoff.in_burst());
    std::vector<long> waits;
    for (int i = 0; i < 7; ++i) waits.push_back(static_cast<long>(backoff.next().count()));
    EXPECT_EQ(waits, (std::vector<long>{50, 100, 200, 400, 800, 1000, 1000}));
    EXPECT_TRUE(backoff.in_burst());
    backoff.reset();
    EXPECT_FALSE(backoff.in_burst());
    EXPECT_EQ(backoff.next().count(), 50);
}

TEST(AcceptBackoff, DescriptorAndMemoryExhaustionAreRecognised) {
    using boost::system::errc::make_error_code;
    namespace errc = boost::system::errc;
    EXPECT_TRUE(is_resource_exhaustion(make_error_code(errc::too_many_files_open)));
    EXPECT_TRUE(is_resource_exhaustion(make_error_code(errc::too_many_files_open_in_system)));
    EXPECT_TRUE(is_resource_exhaustion(make_error_code(errc::no_buffer_space)));
    EXPECT_TRUE(is_resource_exhaustion(make_error_code(errc::not_enough_memory)));
    EXPECT_FALSE(is_resource_exhaustion(make_error_code(errc::connection_aborted)));
    // As accept reports them: the system category.
    EXPECT_TRUE(is_resource_exhaustion(boost::asio::error::no_descriptors));
    EXPECT_TRUE(is_resource_exhaustion(boost::asio::error::no_buffer_space));
    EXPECT_TRUE(is_resource_exhaustion(boost::asio::error::no_memory));
    EXPECT_FALSE(is_resource_exhaustion(boost::asio::error::connection_aborted));
}

TEST(LargeBodyBudget, ChargesBytesAsTheyArriveAndKeepsAShareForSmallBodies) {
    constexpr std::uint64_t MiB = 1024 * 1024;
    // 10 MiB in all, 2 MiB of it kept for bodies of at most 1 MiB; two per account.
    large_body_budget budget(10 * MiB, 2, 2 * MiB);
    large_body_budget::refusal why{};
    // Places are charged the first reads only, whatever the declared length.
    auto a1 = budget.try_take(1, 8 * MiB, why);
    auto a2 = budget.try_take(1, 8 * MiB, why);
    ASSERT_TRUE(a1.held() && a2.held());
    EXPECT_EQ(budget.bytes_in_flight(), 2 * large_body_budget::first_charge_bytes);
    EXPECT_FALSE(budget.try_take(1, 100, why).held());
    EXPECT_EQ(why, large_body_budget::refusal::user_busy);
    // Large bodies grow up to the budget less the kept share (8 MiB) ...
    EXPECT_TRUE(a1.charge(5 * MiB));
    EXPECT_TRUE(a1.charge(4 * MiB));  // never lowered
    EXPECT_EQ(a1.charged(), 5 * MiB);
    EXPECT_FALSE(a2.charge(4 * MiB));  // 5 + 4 > 8
    EXPECT_TRUE(a2.charge(3 * MiB));
    EXPECT_EQ(budget.bytes_in_flight(), 8 * MiB);
    auto b1 = budget.try_take(2, 8 * MiB, why);
    EXPECT_FALSE(b1.held());
    EXPECT_EQ(why, large_body_budget::refusal::server_busy);
    // ... while small bodies still find the kept share.
    auto s1 = budget.try_take(3, 1 * MiB, why);
    auto s2 = budget.try_take(4, 900 * 1024, why);
    ASSERT_TRUE(s1.held() && s2.held());
    EXPECT_TRUE(s1.charge(1 * MiB));
    EXPECT_TRUE(s2.charge(900 * 1024));
    EXPECT_EQ(budget.bytes_in_flight(), 8 * MiB + 1 * MiB + 900 * 1024);
    // Given back when the tickets end.
    a1 = large_body_budget::ticket{};
    s1 = large_body_budget::ticket{};
    EXPECT_EQ(budget.bytes_in_flight(), 3 * MiB + 900 * 1024);
    auto b2 = budget.try_take(2, 8 * MiB, why);
    EXPECT_TRUE(b2.held());
}

}  // namespace
}  // namespace secms::net

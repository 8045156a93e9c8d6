#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "server/channel/channel_hub.hpp"
#include "server/channel/client_messages.hpp"
#include "server/channel/relay_frame.hpp"
#include "server/channel/testing/recording_peer.hpp"

namespace secms::channel {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

using testing::recording_peer;

// Who a peer believes is online, replaying what it was sent as the web client does: a full
// "presence" list, then presence_joined / presence_changed / presence_left deltas.
std::map<std::int64_t, json::object> presence_view(const recording_peer& p) {
    std::map<std::int64_t, json::object> view;
    for (const auto& text : p.texts) {
        auto msg = json::parse(text).as_object();
        const auto& type = msg.at("type").as_string();
        if (type == "presence") {
            view.clear();
            for (auto& u : msg.at("online").as_array()) {
                view[u.at("userid").as_int64()] = u.as_object();
            }
        } else if (type == "presence_joined" || type == "presence_changed") {
            auto& u = msg.at("user").as_object();
            view[u.at("userid").as_int64()] = u;
        } else if (type == "presence_left") {
            view.erase(msg.at("user").at("userid").as_int64());
        }
    }
    return view;
}

// Usernames a peer believes are online, sorted.
std::vector<std::string> online_names(const recording_peer& p) {
    std::vector<std::string> names;
    for (auto& [id, u] : presence_view(p)) names.emplace_back(u.at("username").as_string());
    std::sort(names.begin(), names.end());
    return names;
}

std::size_t text_bytes(const recording_peer& p) {
    std::size_t n = 0;
    for (const auto& t : p.texts) n += t.size();
    return n;
}

pgp::certificate_report report_of(std::string fingerprint, std::string name) {
    pgp::certificate_report r;
    r.fingerprint = std::move(fingerprint);
    r.key_id = r.fingerprint.substr(r.fingerprint.size() - 16);
    r.name = std::move(name);
    r.armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    return r;
}

class HubTest : public ::testing::Test {
  protected:
    core::manual_clock clock_;
    core::metrics metrics_;
    channel_hub hub_{metrics_, clock_, {"https://localhost:8443", 60s, 60s, 300s, 2}};
    std::shared_ptr<recording_peer> alice_ = std::make_shared<recording_peer>();
    std::shared_ptr<recording_peer> bob_ = std::make_shared<recording_peer>();

    void certify(const std::shared_ptr<recording_peer>& p, const std::string& fp,
                 const std::string& name) {
        auto challenge = hub_.issue_challenge(p.get(), report_of(fp, name));
        ASSERT_TRUE(challenge);
        auto pending = hub_.take_challenge(p.get());
        ASSERT_TRUE(pending);
        hub_.certify(p.get(), std::move(pending->report));
    }

    // Both online and certified, a channel offered and accepted by both.
    std::string open_channel() {
        hub_.join(alice_, {1, "alice", "s1"});
        hub_.join(bob_, {2, "bob", "s2"});
        certify(alice_, std::string(40, 'A'), "Alice");
        certify(bob_, std::string(40, 'B'), "Bob");
        auto id = hub_.request_channel(alice_.get(), 2);
        EXPECT_TRUE(id);
        EXPECT_TRUE(hub_.accept(alice_.get(), *id));
        EXPECT_TRUE(hub_.accept(bob_.get(), *id));
        return *id;
    }
};

TEST_F(HubTest, PresenceJoinsAndLeaves) {
    hub_.join(alice_, {1, "alice", "s1"});
    EXPECT_EQ(online_names(*alice_), (std::vector<std::string>{"alice"}));
    hub_.join(bob_, {2, "bob", "s2"});
    EXPECT_EQ(online_names(*alice_), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(metrics_.users_online.load(), 2);
    hub_.leave(bob_.get());
    EXPECT_EQ(online_names(*alice_), (std::vector<std::string>{"alice"}));
}

// One app window per account: a second connection of an account (another tab, or another login
// of it) takes over; the first is closed with 4409 superseded and the others never see the user
// leave.
TEST_F(HubTest, ANewerConnectionOfAnAccountTakesOver) {
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s2"});
    hub_.join(alice2, {1, "alice", "s1b"});
    EXPECT_EQ(alice_->closed_with, close_reason::superseded);
    EXPECT_EQ(static_cast<int>(close_reason::superseded), 4409);
    EXPECT_FALSE(alice2->closed_with);
    EXPECT_FALSE(bob_->closed_with);
    EXPECT_EQ(hub_.online().size(), 2u);
    EXPECT_EQ(metrics_.users_online.load(), 2);
    EXPECT_EQ(online_names(*alice2), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(bob_->count("presence_left"), 0u);
    EXPECT_EQ(bob_->count("presence_joined"), 0u);  // alice was here before bob came
    // The superseded socket's read loop ends later: that changes nothing.
    hub_.leave(alice_.get());
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"alice", "bob"}));
    // What the superseded connection asks for after the takeover is refused: it is not here.
    EXPECT_FALSE(hub_.request_channel(alice_.get(), 2));
    hub_.leave(alice2.get());
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"bob"}));
}

// The superseded connection's secure channels end as on a close (the peer hears "disconnected");
// its certificate is no longer shown until the new connection proves one.
TEST_F(HubTest, ATakeoverEndsTheOldConnectionsChannelsAndShownCertificate) {
    auto id = open_channel();
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice2, {1, "alice", "s1"});
    EXPECT_EQ(alice_->closed_with, close_reason::superseded);
    auto ended = bob_->last("channel_ended");
    EXPECT_EQ(ended.at("session").as_string(), id);
    EXPECT_EQ(ended.at("reason").as_string(), "disconnected");
    EXPECT_EQ(hub_.session_count(), 0u);
    EXPECT_EQ(hub_.known().size(), 1u);  // bob's; alice's went with her superseded connection
    EXPECT_EQ(presence_view(*bob_).at(1).count("fingerprint"), 0u);
    EXPECT_EQ(presence_view(*alice2).at(1).count("fingerprint"), 0u);
    certify(alice2, std::string(40, 'A'), "Alice");
    EXPECT_EQ(presence_view(*bob_).at(1).at("fingerprint").as_string(), std::string(40, 'A'));
    // The new connection opens channels as any other.
    auto again = hub_.request_channel(alice2.get(), 2);
    ASSERT_TRUE(again);
    EXPECT_TRUE(hub_.accept(alice2.get(), *again));
    EXPECT_TRUE(hub_.accept(bob_.get(), *again));
}

// Extensions (the chat rooms) hear of the superseded connection leaving before the new one
// arrives, and of every connection exactly once each way, even when the account's connections
// join at the same time from several threads: exactly one stays, the others are closed.
TEST_F(HubTest, RacingJoinsOfOneAccountLeaveExactlyOne) {
    struct recording_extension final : extension {
        std::mutex mutex;
        std::vector<std::pair<bool, const peer*>> events;  // true: connected
        void connected(const std::shared_ptr<peer>& p, const member_info&) override {
            std::lock_guard lock(mutex);
            events.emplace_back(true, p.get());
        }
        void disconnected(const peer* p) override {
            std::lock_guard lock(mutex);
            events.emplace_back(false, p);
        }
        bool handles_message(std::string_view) const noexcept override { return false; }
        boost::asio::awaitable<void> handle_message(const std::shared_ptr<peer>&, std::string_view,
                                                    const boost::json::object&) override {
            co_return;
        }
        bool handles_frame(std::uint8_t) const noexcept override { return false; }
        relay_target relay(const std::shared_ptr<peer>&, message_ptr) override { return {}; }
    } rooms;
    hub_.add_extension(rooms);
    hub_.join(bob_, {2, "bob", "s2"});
    constexpr int rounds = 200;
    constexpr int racers = 4;
    std::vector<std::shared_ptr<recording_peer>> all;
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::shared_ptr<recording_peer>> tabs;
        for (int i = 0; i < racers; ++i) tabs.push_back(std::make_shared<recording_peer>());
        std::vector<std::thread> threads;
        for (int i = 0; i < racers; ++i) {
            threads.emplace_back([&, i] { hub_.join(tabs[i], {1, "alice", "s1"}); });
        }
        for (auto& t : threads) t.join();
        all.insert(all.end(), tabs.begin(), tabs.end());
        // Exactly one of every connection the account ever opened is still open, and it is in
        // the hub: the one every other was closed for.
        std::size_t open = 0;
        const recording_peer* survivor = nullptr;
        for (auto& p : all) {
            if (!p->closed_with) {
                ++open;
                survivor = p.get();
            } else {
                EXPECT_EQ(*p->closed_with, close_reason::superseded);
            }
        }
        ASSERT_EQ(open, 1u) << "round " << round;
        ASSERT_EQ(hub_.online().size(), 2u);
        // Only the survivor is the account's connection: a request from another is refused.
        EXPECT_TRUE(hub_.issue_challenge(survivor, report_of(std::string(40, 'A'), "Alice")));
        EXPECT_FALSE(hub_.issue_challenge(
            all.front().get() == survivor ? all.back().get() : all.front().get(),
            report_of(std::string(40, 'A'), "Alice")));
    }
    // The extension saw each connection come then go (the survivor only come), in that order,
    // and never two of the account's connections at once.
    std::map<const peer*, int> state;  // 1 connected, 2 disconnected
    std::size_t connected_now = 0;
    for (auto [came, p] : rooms.events) {
        if (p == bob_.get()) continue;
        if (came) {
            EXPECT_EQ(state[p], 0);
            state[p] = 1;
            EXPECT_EQ(++connected_now, 1u);
        } else {
            EXPECT_EQ(state[p], 1);
            state[p] = 2;
            --connected_now;
        }
    }
    EXPECT_EQ(connected_now, 1u);
    EXPECT_EQ(state.size(), all.size());
    EXPECT_EQ(bob_->count("presence_left"), 0u);
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"alice", "bob"}));
}

// A user's further tabs opening and closing cost the others nothing; only the first connection
// arriving, the last leaving and a changed certificate are told, as one small delta each.
TEST_F(HubTest, PresenceSendsDeltasOnlyWhenAUserAppearsLeavesOrChanges) {
    std::vector<std::shared_ptr<recording_peer>> listeners;
    for (int i = 0; i < 50; ++i) {
        listeners.push_back(std::make_shared<recording_peer>());
        hub_.join(listeners.back(), {100 + i, "listener" + std::to_string(i), "l"});
    }
    auto& watcher = *listeners.front();
    // The joiner got the whole list once; the others never get a whole list again.
    EXPECT_EQ(listeners.back()->count("presence"), 1u);
    EXPECT_EQ(presence_view(*listeners.back()).size(), 50u);
    EXPECT_EQ(watcher.count("presence"), 1u);
    EXPECT_EQ(online_names(watcher).size(), 50u);

    hub_.join(alice_, {1, "alice", "s1"});
    EXPECT_EQ(watcher.count("presence_joined"), 50u);  // 49 listeners after it, then alice
    const std::size_t before = watcher.texts.size();
    // Alice's further tabs take over one after another: nobody else hears of it.
    std::shared_ptr<recording_peer> newest = alice_;
    for (int i = 0; i < 20; ++i) {
        auto tab = std::make_shared<recording_peer>();
        hub_.join(tab, {1, "alice", "s1"});
        EXPECT_EQ(presence_view(*tab).size(), 51u);  // the new tab itself gets the full list
        EXPECT_EQ(newest->closed_with, close_reason::superseded);
        hub_.leave(newest.get());  // the superseded socket's read loop ends
        newest = tab;
    }
    EXPECT_EQ(watcher.texts.size(), before);

    // Her only connection cycling: two small deltas per cycle, whatever the number online.
    hub_.leave(newest.get());
    const std::size_t bytes_before = text_bytes(watcher);
    for (int i = 0; i < 10; ++i) {
        auto tab = std::make_shared<recording_peer>();
        hub_.join(tab, {1, "alice", "s1"});
        hub_.leave(tab.get());
    }
    EXPECT_LE(text_bytes(watcher) - bytes_before, 10u * 2u * 100u);
    EXPECT_EQ(presence_view(watcher).count(1), 0u);
    EXPECT_EQ(watcher.count("presence"), 1u);
    for (auto& l : listeners) EXPECT_EQ(online_names(*l).size(), 50u);
}

TEST_F(HubTest, PresenceChangedOnlyWhenTheShownCertificateChanges) {
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s2"});
    certify(alice_, std::string(40, 'A'), "Alice");
    EXPECT_EQ(bob_->count("presence_changed"), 1u);
    EXPECT_EQ(presence_view(*bob_).at(1).at("fingerprint").as_string(), std::string(40, 'A'));
    certify(alice_, std::string(40, 'A'), "Alice");  // the same certificate again: no news
    EXPECT_EQ(bob_->count("presence_changed"), 1u);
    // A second tab takes over: no certificate is shown until it proves one (one change), then
    // its new certificate is (another).
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice2, {1, "alice", "s1"});
    EXPECT_EQ(presence_view(*bob_).at(1).count("fingerprint"), 0u);
    certify(alice2, std::string(40, 'C'), "Alice");
    EXPECT_EQ(presence_view(*bob_).at(1).at("fingerprint").as_string(), std::string(40, 'C'));
    hub_.leave(alice_.get());  // the superseded tab's read loop ends: no news
    EXPECT_EQ(presence_view(*bob_).at(1).at("fingerprint").as_string(), std::string(40, 'C'));
    EXPECT_EQ(bob_->count("presence_changed"), 3u);
    EXPECT_EQ(bob_->count("presence_left"), 0u);
}

// A logged-out socket leaves presence (and its sessions end) when the login ends, not when its
// close handshake finishes: the recording peer's close() does not leave, as a client that never
// answers the close frame does not.
TEST_F(HubTest, EndingALoginLeavesPresenceAtOnce) {
    auto id = open_channel();
    hub_.end_login_session("s1");
    EXPECT_EQ(alice_->closed_with, close_reason::login_ended);
    EXPECT_EQ(bob_->last("channel_ended").at("session").as_string(), id);
    EXPECT_EQ(hub_.session_count(), 0u);
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"bob"}));
    EXPECT_EQ(hub_.online().size(), 1u);
    EXPECT_EQ(metrics_.users_online.load(), 1);
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice2, {1, "alice", "s1b"});
    hub_.end_user(1);
    EXPECT_EQ(alice2->closed_with, close_reason::login_ended);
    EXPECT_EQ(online_names(*bob_), (std::vector<std::string>{"bob"}));
    hub_.leave(alice_.get());  // the read loop ending later changes nothing
    hub_.leave(alice2.get());
    EXPECT_EQ(bob_->count("presence_left"), 2u);
}

TEST_F(HubTest, WebSocketsPerAccountAreCapped) {
    std::vector<socket_ticket> held;
    for (std::size_t i = 0; i < hub_.settings().max_websockets_per_user; ++i) {
        auto t = hub_.reserve_socket(1);
        ASSERT_TRUE(t) << i;
        held.push_back(std::move(*t));
    }
    EXPECT_EQ(hub_.settings().max_websockets_per_user, 8u);
    EXPECT_FALSE(hub_.reserve_socket(1));  // the 9th
    EXPECT_EQ(hub_.sockets_of(1), 8u);
    EXPECT_TRUE(hub_.reserve_socket(2));  // another account is not held back
    held.pop_back();                      // one closes: its place is free again
    EXPECT_EQ(hub_.sockets_of(1), 7u);
    EXPECT_TRUE(hub_.reserve_socket(1));
    held.clear();
    EXPECT_EQ(hub_.sockets_of(1), 0u);
}

TEST_F(HubTest, EndingALoginClosesItsConnectionsOnly) {
    auto other = std::make_shared<recording_peer>();
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s2"});
    hub_.end_login_session("s1");
    EXPECT_EQ(alice_->closed_with, close_reason::login_ended);
    EXPECT_FALSE(bob_->closed_with);
    hub_.join(other, {1, "alice", "s9"});
    hub_.end_user(1);
    EXPECT_EQ(other->closed_with, close_reason::login_ended);
    EXPECT_FALSE(bob_->closed_with);
}

TEST_F(HubTest, ChallengeNamesServiceUserAndCertificateAndIsSingleUse) {
    hub_.join(alice_, {1, "alice", "s1"});
    auto a = hub_.issue_challenge(alice_.get(), report_of(std::string(40, 'A'), "Alice"));
    auto b = hub_.issue_challenge(alice_.get(), report_of(std::string(40, 'A'), "Alice"));
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);  // fresh nonce each time
    // Exactly the v2 form the client's Worker accepts (docs/api.md): six ASCII lines, the
    // fingerprint in lower case, a 64-hex nonce and the hub clock's Unix time.
    const std::string head =
        "Security.MS proof of possession v2\norigin: https://localhost:8443\n"
        "user: alice\nfingerprint: " +
        std::string(40, 'a') + "\nnonce: ";
    const std::string tail = "\ntime: " + std::to_string(clock_.unix_now()) + "\n";
    ASSERT_EQ(b->size(), head.size() + 64 + tail.size());
    EXPECT_EQ(b->substr(0, head.size()), head);
    EXPECT_EQ(b->substr(head.size() + 64), tail);
    const std::string nonce = b->substr(head.size(), 64);
    EXPECT_EQ(nonce.find_first_not_of("0123456789abcdef"), std::string::npos) << nonce;
    EXPECT_EQ(b->find('\xff'), std::string::npos);
    EXPECT_TRUE(hub_.take_challenge(alice_.get()));
    EXPECT_FALSE(hub_.take_challenge(alice_.get()));  // consumed
}

TEST_F(HubTest, ChallengeNamesTheOriginTheSocketCameFrom) {
    // An allowed extra origin: the page there compares the challenge with its own origin.
    hub_.join(alice_,
              {1, "alice", "s1", store::role::user, "127.0.0.1", "https://chat.example:9443"});
    auto challenge = hub_.issue_challenge(alice_.get(), report_of(std::string(40, 'A'), "Alice"));
    ASSERT_TRUE(challenge);
    EXPECT_EQ(
        challenge->find("Security.MS proof of possession v2\norigin: https://chat.example:9443\n"),
        0u);
}

TEST_F(HubTest, ChallengeExpires) {
    hub_.join(alice_, {1, "alice", "s1"});
    ASSERT_TRUE(hub_.issue_challenge(alice_.get(), report_of(std::string(40, 'A'), "Alice")));
    clock_.advance(61s);
    EXPECT_FALSE(hub_.take_challenge(alice_.get()));
}

TEST_F(HubTest, CertifiedFingerprintShowsInPresence) {
    hub_.join(alice_, {1, "alice", "s1"});
    certify(alice_, std::string(40, 'A'), "Alice");
    EXPECT_EQ(presence_view(*alice_).at(1).at("fingerprint").as_string(), std::string(40, 'A'));
    EXPECT_EQ(hub_.known().size(), 1u);
    hub_.leave(alice_.get());
    EXPECT_EQ(hub_.known().size(), 0u);  // gone with the connection
}

TEST_F(HubTest, ChannelNeedsCertificatesOnBothSides) {
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s2"});
    EXPECT_EQ(hub_.request_channel(alice_.get(), 2).error(), channel_error::not_certified);
    certify(alice_, std::string(40, 'A'), "Alice");
    EXPECT_EQ(hub_.request_channel(alice_.get(), 2).error(), channel_error::peer_not_certified);
    EXPECT_EQ(hub_.request_channel(alice_.get(), 3).error(), channel_error::peer_offline);
    EXPECT_EQ(hub_.request_channel(alice_.get(), 1).error(), channel_error::self_channel);
}

TEST_F(HubTest, OffersCarryThePeersCertificateAndOpenAfterBothAccept) {
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s2"});
    certify(alice_, std::string(40, 'A'), "Alice");
    certify(bob_, std::string(40, 'B'), "Bob");
    auto id = hub_.request_channel(alice_.get(), 2);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->size(), session_id_length);
    auto to_alice = alice_->last("channel_offer");
    auto to_bob = bob_->last("channel_offer");
    EXPECT_EQ(to_alice.at("role").as_string(), "initiator");
    EXPECT_EQ(to_alice.at("certificate").at("fingerprint").as_string(), std::string(40, 'B'));
    EXPECT_EQ(to_bob.at("role").as_string(), "responder");
    EXPECT_EQ(to_bob.at("certificate").at("fingerprint").as_string(), std::string(40, 'A'));
    EXPECT_EQ(to_bob.at("peer").at("username").as_string(), "alice");
    ASSERT_TRUE(hub_.accept(alice_.get(), *id));
    EXPECT_EQ(alice_->count("channel_open"), 0u);
    // Relaying before both accepted is refused.
    auto early = hub_.relay(alice_.get(), std::make_shared<const std::string>(make_relay_frame(
                                              frame_type::handshake, *id, 0, "x")));
    EXPECT_EQ(early.error(), channel_error::session_not_open);
    ASSERT_TRUE(hub_.accept(bob_.get(), *id));
    EXPECT_EQ(alice_->count("channel_open"), 1u);
    EXPECT_EQ(bob_->count("channel_open"), 1u);
    EXPECT_EQ(metrics_.channels_open.load(), 1);
}

TEST_F(HubTest, RelayDeliversToTheOtherMemberInOrderOnly) {
    std::string id = open_channel();
    auto frame = [&](std::uint64_t seq, std::string body) {
        return std::make_shared<const std::string>(
            make_relay_frame(frame_type::record, id, seq, body));
    };
    ASSERT_TRUE(hub_.relay(alice_.get(), frame(0, "c0")));
    ASSERT_TRUE(hub_.relay(alice_.get(), frame(1, "c1")));
    ASSERT_TRUE(hub_.relay(bob_.get(), frame(0, "r0")));
    ASSERT_EQ(bob_->binaries.size(), 2u);
    EXPECT_TRUE(bob_->binaries[1].ends_with("c1"));
    ASSERT_EQ(alice_->binaries.size(), 1u);
    // Replay, gap and reorder are refused by the relay itself.
    EXPECT_EQ(hub_.relay(alice_.get(), frame(1, "again")).error(), channel_error::out_of_order);
    EXPECT_EQ(hub_.relay(alice_.get(), frame(5, "gap")).error(), channel_error::out_of_order);
    EXPECT_EQ(bob_->binaries.size(), 2u);
    // A frame for a session one is not a member of is refused.
    auto eve = std::make_shared<recording_peer>();
    hub_.join(eve, {3, "eve", "s3"});
    EXPECT_EQ(hub_.relay(eve.get(), frame(2, "x")).error(), channel_error::unknown_session);
    EXPECT_EQ(hub_.relay(alice_.get(), std::make_shared<const std::string>("short")).error(),
              channel_error::bad_frame);
}

TEST_F(HubTest, EndingTellsBothSidesAndForgetsTheSession) {
    std::string id = open_channel();
    ASSERT_TRUE(hub_.end(bob_.get(), id, end_reason::compromised, "bad_tag"));
    auto a = alice_->last("channel_ended");
    EXPECT_EQ(a.at("reason").as_string(), "compromised");
    EXPECT_EQ(a.at("detail").as_string(), "bad_tag");
    EXPECT_EQ(a.at("by").as_string(), "peer");
    EXPECT_EQ(bob_->last("channel_ended").at("by").as_string(), "you");
    EXPECT_TRUE(a.contains("end_time"));
    EXPECT_EQ(hub_.session_count(), 0u);
    EXPECT_EQ(metrics_.channels_open.load(), 0);
    auto frame =
        std::make_shared<const std::string>(make_relay_frame(frame_type::record, id, 0, "x"));
    EXPECT_EQ(hub_.relay(alice_.get(), frame).error(), channel_error::unknown_session);
}

TEST_F(HubTest, ClientDetailIsPassedOnOnlyAsAPlainCode) {
    std::string id = open_channel();
    ASSERT_TRUE(hub_.end(bob_.get(), id, end_reason::compromised, "<img src=x onerror=alert(1)>"));
    EXPECT_FALSE(alice_->last("channel_ended").contains("detail"));
}

TEST_F(HubTest, DisconnectEndsTheSession) {
    std::string id = open_channel();
    hub_.leave(bob_.get());
    EXPECT_EQ(alice_->last("channel_ended").at("reason").as_string(), "disconnected");
    EXPECT_EQ(hub_.session_count(), 0u);
}

TEST_F(HubTest, IdleChannelsAndStaleOffersEnd) {
    std::string id = open_channel();
    clock_.advance(200s);
    hub_.sweep();
    EXPECT_EQ(hub_.session_count(), 1u);
    clock_.advance(101s);
    hub_.sweep();
    EXPECT_EQ(alice_->last("channel_ended").at("reason").as_string(), "idle_timeout");
    auto offer = hub_.request_channel(alice_.get(), 2);
    ASSERT_TRUE(offer);
    clock_.advance(61s);
    hub_.sweep();
    EXPECT_EQ(bob_->last("channel_ended").at("reason").as_string(), "offer_expired");
}

TEST_F(HubTest, PerConnectionChannelLimit) {
    open_channel();
    ASSERT_TRUE(hub_.request_channel(alice_.get(), 2));
    EXPECT_EQ(hub_.request_channel(alice_.get(), 2).error(), channel_error::too_many_channels);
}

TEST_F(HubTest, SeveralChannelsWithDifferentPeers) {
    std::string ab = open_channel();
    auto carol = std::make_shared<recording_peer>();
    hub_.join(carol, {3, "carol", "s3"});
    certify(carol, std::string(40, 'C'), "Carol");
    auto ac = hub_.request_channel(alice_.get(), 3);
    ASSERT_TRUE(ac);
    EXPECT_NE(*ac, ab);
    EXPECT_EQ(hub_.session_count(), 2u);
}

// Re-certifying with a fresh key used to add each certificate to the known set for good: one
// socket could grow it without bound (and every certificate check scans it).
TEST_F(HubTest, SupersededCertificatesAreForgotten) {
    hub_.join(alice_, {1, "alice", "s1"});
    for (int i = 0; i < 50; ++i) {
        char hex[41];
        std::snprintf(hex, sizeof hex, "%040X", i + 1);
        certify(alice_, hex, "Alice");
        EXPECT_EQ(hub_.known().size(), 1u) << "after key " << i;
    }
    hub_.leave(alice_.get());
    EXPECT_EQ(hub_.known().size(), 0u);
}

// (One connection per account: the connections sharing a certificate are of different accounts.)
TEST_F(HubTest, ASharedFingerprintStaysUntilItsLastConnectionLetsGo) {
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(alice2, {3, "alice-shared", "s3"});
    certify(alice_, std::string(40, 'A'), "Alice");
    certify(alice2, std::string(40, 'A'), "Alice");
    certify(alice_, std::string(40, 'A'), "Alice");  // the same certificate proved again
    EXPECT_EQ(hub_.known().size(), 1u);
    certify(alice_, std::string(40, 'D'), "Alice");  // this tab moves on; the other still holds A
    EXPECT_EQ(hub_.known().size(), 2u);
    EXPECT_EQ(hub_.known().find_by_key_id(std::string(16, 'A')).size(), 1u);
    hub_.leave(alice2.get());
    EXPECT_EQ(hub_.known().size(), 1u);
    EXPECT_TRUE(hub_.known().find_by_key_id(std::string(16, 'A')).empty());
    hub_.leave(alice_.get());
    EXPECT_EQ(hub_.known().size(), 0u);
}

// One offerer cannot keep a peer's channel slots full of offers it never means to open.
TEST(HubOffers, PendingOffersArePerOffererAndExpire) {
    core::manual_clock clock;
    core::metrics metrics;
    channel_settings settings{"https://localhost:8443", 60s, 60s, 300s, 16};
    settings.max_pending_offers_per_peer = 2;
    settings.max_pending_offers = 4;
    channel_hub hub(metrics, clock, settings);
    std::vector<std::shared_ptr<recording_peer>> peers;
    for (int i = 1; i <= 6; ++i) {
        auto p = std::make_shared<recording_peer>();
        hub.join(p, {i, "user" + std::to_string(i), "s" + std::to_string(i)});
        auto challenge = hub.issue_challenge(
            p.get(), report_of(std::string(40, static_cast<char>('A' + i)), "U"));
        ASSERT_TRUE(challenge);
        hub.certify(p.get(), std::move(hub.take_challenge(p.get())->report));
        peers.push_back(p);
    }
    const peer* attacker = peers[0].get();
    ASSERT_TRUE(hub.request_channel(attacker, 2));
    ASSERT_TRUE(hub.request_channel(attacker, 2));
    EXPECT_EQ(hub.request_channel(attacker, 2).error(), channel_error::too_many_offers);
    ASSERT_TRUE(hub.request_channel(attacker, 3));
    ASSERT_TRUE(hub.request_channel(attacker, 4));
    EXPECT_EQ(hub.request_channel(attacker, 5).error(), channel_error::too_many_offers);
    // Others can still offer to the same peer.
    EXPECT_TRUE(hub.request_channel(peers[5].get(), 2));
    // An accepted offer is no longer pending.
    auto to6 = hub.request_channel(peers[1].get(), 6);
    ASSERT_TRUE(to6);
    // Pending offers expire, and with them the offerer's count.
    clock.advance(61s);
    hub.sweep();
    EXPECT_EQ(hub.session_count(), 0u);
    auto made = hub.request_channel(attacker, 5);
    ASSERT_TRUE(made);
    ASSERT_TRUE(hub.accept(attacker, *made));
    ASSERT_TRUE(hub.accept(peers[4].get(), *made));
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(hub.request_channel(attacker, 2));
    ASSERT_TRUE(hub.request_channel(attacker, 3));
    EXPECT_TRUE(hub.request_channel(attacker, 4));  // the open channel does not count
    EXPECT_EQ(hub.request_channel(attacker, 6).error(), channel_error::too_many_offers);
}

// Runs one control message through the JSON layer, as the WebSocket session does.
void send_control(channel_hub& hub, const std::shared_ptr<recording_peer>& from,
                  const std::string& text, const core::clock& clock) {
    boost::asio::io_context io;
    boost::asio::thread_pool pool(1);
    std::shared_ptr<peer> as_peer = from;
    boost::asio::co_spawn(io, handle_client_message(hub, as_peer, text, pool, clock),
                          boost::asio::detached);
    io.run();
    pool.join();
}

// Every control message type is paid for from a per-user budget shared by the user's
// connections (a new window taking over starts with what the old one left); a refused one is
// answered with rate_limited and retry_after, and does nothing else.
TEST(HubControlLimits, PerUserAcrossTabsThenRefilled) {
    core::manual_clock clock;
    core::metrics metrics;
    channel_settings settings{"https://localhost:8443", 60s, 60s, 300s, 16};
    settings.control.other = {3, 60};    // 1 per second
    settings.control.channel = {2, 30};  // 1 per 2 s
    channel_hub hub(metrics, clock, settings);
    auto tab1 = std::make_shared<recording_peer>();
    auto tab2 = std::make_shared<recording_peer>();
    auto bob = std::make_shared<recording_peer>();
    hub.join(tab2, {1, "alice", "s2"});
    hub.join(bob, {2, "bob", "s3"});
    send_control(hub, tab2, R"({"type":"ping"})", clock);
    send_control(hub, tab2, R"({"type":"ping"})", clock);
    hub.join(tab1, {1, "alice", "s1"});  // takes over from tab2
    send_control(hub, tab1, R"({"type":"ping"})", clock);
    send_control(hub, tab1, R"({"type":"ping"})", clock);
    EXPECT_EQ(tab1->count("pong") + tab2->count("pong"), 3u);
    auto refused = tab1->last("error");
    EXPECT_EQ(refused.at("error").at("code").as_string(), "rate_limited");
    EXPECT_EQ(refused.at("error").at("retry_after").as_int64(), 1);
    EXPECT_EQ(refused.at("request").as_string(), "ping");
    // Another user has a budget of their own; another bucket is untouched.
    send_control(hub, bob, R"({"type":"ping"})", clock);
    EXPECT_EQ(bob->count("pong"), 1u);
    send_control(hub, tab1, R"({"type":"channel_end","session":"x"})", clock);
    EXPECT_EQ(tab1->last("error").at("error").at("code").as_string(), "unknown_session");
    send_control(hub, tab1, R"({"type":"channel_end","session":"x"})", clock);
    send_control(hub, tab1, R"({"type":"channel_end","session":"x"})", clock);
    EXPECT_EQ(tab1->last("error").at("error").at("code").as_string(), "rate_limited");
    EXPECT_EQ(tab1->last("error").at("error").at("retry_after").as_int64(), 2);
    // Unknown types are limited too (from `other`).
    send_control(hub, tab1, R"({"type":"no_such_type"})", clock);
    EXPECT_EQ(tab1->last("error").at("error").at("code").as_string(), "rate_limited");
    clock.advance(1s);
    send_control(hub, tab1, R"({"type":"ping"})", clock);
    EXPECT_EQ(tab1->count("pong") + tab2->count("pong"), 4u);
    // Idle users whose buckets are full again are forgotten.
    clock.advance(10min);
    hub.sweep();
    send_control(hub, tab1, R"({"type":"ping"})", clock);
    EXPECT_EQ(tab1->count("pong") + tab2->count("pong"), 5u);
}

TEST(ControlLimits, EveryKnownTypeHasABucketAndCosts) {
    EXPECT_EQ(cost_of("room_join").bucket, control_bucket::membership);
    EXPECT_EQ(cost_of("room_leave").bucket, control_bucket::membership);
    EXPECT_EQ(cost_of("room_invite").bucket, control_bucket::membership);
    EXPECT_EQ(cost_of("room_uninvite").bucket, control_bucket::membership);
    EXPECT_EQ(cost_of("channel_request").bucket, control_bucket::channel);
    EXPECT_EQ(cost_of("channel_end").bucket, control_bucket::channel);
    EXPECT_EQ(cost_of("room_who").bucket, control_bucket::query);
    EXPECT_EQ(cost_of("anything_else").bucket, control_bucket::other);
    core::manual_clock clock;
    control_limiter limiter({{1, 0}, {1, 60}, {1, 60}, {1, 60}}, clock);
    EXPECT_FALSE(limiter.admit(7, "room_join"));
    EXPECT_EQ(limiter.admit(7, "room_join"), 3600);  // never refills
    EXPECT_FALSE(limiter.admit(7, "room_who"));
    EXPECT_EQ(limiter.size(), 1u);
}

TEST(RelayFrame, HeaderRoundTripAndRefusals) {
    std::string id(32, 'a');
    std::string f = make_relay_frame(frame_type::record, id, 0x0102030405060708ULL, "body");
    auto h = parse_relay_header(f);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, frame_type::record);
    EXPECT_EQ(h->session_id, id);
    EXPECT_EQ(h->sequence, 0x0102030405060708ULL);
    EXPECT_FALSE(parse_relay_header(make_relay_frame(frame_type::record, id, 1, "")));  // no body
    std::string bad_type = f;
    bad_type[0] = 9;
    EXPECT_FALSE(parse_relay_header(bad_type));
    std::string upper = make_relay_frame(frame_type::record, std::string(32, 'A'), 1, "x");
    EXPECT_FALSE(parse_relay_header(upper));
    EXPECT_FALSE(parse_relay_header(""));
}

TEST(ChannelMessages, ErrorsAndPresenceAreJson) {
    auto e = json::parse(error_message(channel_error::unknown_session, "abc"));
    EXPECT_EQ(e.at("error").at("code").as_string(), "unknown_session");
    EXPECT_EQ(e.at("session").as_string(), "abc");
    auto p = json::parse(presence_message({{1, "a\"b", ""}}));
    EXPECT_EQ(p.at("online").at(0).at("username").as_string(), "a\"b");
    EXPECT_FALSE(p.at("online").at(0).as_object().contains("fingerprint"));
}

// certificate_submit: its own buckets, per connection (3 at once, 3 a minute) and per account
// (5 and 5), taken before any certificate work is queued.
TEST_F(HubTest, CertificateSubmissionsAreLimitedPerConnectionAndPerAccount) {
    auto alice2 = std::make_shared<recording_peer>();
    hub_.join(alice_, {1, "alice", "s1"});
    hub_.join(bob_, {2, "bob", "s4"});
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(hub_.admit_certificate_submission(alice_.get())) << i;
    auto wait = hub_.admit_certificate_submission(alice_.get());
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 20);  // one token at 3 a minute
    // A new window takes over: it has all of its own, but the account's five are shared.
    hub_.join(alice2, {1, "alice", "s2"});
    EXPECT_TRUE(hub_.admit_certificate_submission(alice_.get()));  // superseded: refused
    EXPECT_FALSE(hub_.admit_certificate_submission(alice2.get()));
    EXPECT_FALSE(hub_.admit_certificate_submission(alice2.get()));
    wait = hub_.admit_certificate_submission(alice2.get());
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 12);                                         // one token at 5 a minute
    EXPECT_FALSE(hub_.admit_certificate_submission(bob_.get()));  // another account
    // (the refused third took the connection's token: its next is 20 s away)
    clock_.advance(20s);
    EXPECT_FALSE(hub_.admit_certificate_submission(alice2.get()));
    // A connection that left is forgotten: the next one at that address starts with a full bucket.
    clock_.advance(60s);
    hub_.leave(alice2.get());
    hub_.join(alice_, {1, "alice", "s5"});
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(hub_.admit_certificate_submission(alice_.get())) << i;
    // A connection that is not joined gets nothing.
    auto stranger = std::make_shared<recording_peer>();
    EXPECT_TRUE(hub_.admit_certificate_submission(stranger.get()));
}

}  // namespace
}  // namespace secms::channel

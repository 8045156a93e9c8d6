#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/channel/control_messages.hpp"
#include "server/channel/presence_hub.hpp"

namespace secms::channel {
namespace {

// A peer that records what it was sent.
class recording_peer : public peer {
public:
    void send_text(std::shared_ptr<const std::string> message) override {
        messages.push_back(*message);
    }
    void close(close_reason code, std::string_view) override { closed_with = code; }
    std::vector<std::string> messages;
    std::optional<close_reason> closed_with;

    std::vector<std::string> last_online() const {
        std::vector<std::string> names;
        auto v = boost::json::parse(messages.back());
        for (auto& u : v.at("online").as_array()) {
            names.emplace_back(u.at("username").as_string());
        }
        return names;
    }
};

TEST(PresenceHub, EveryoneSeesJoinsAndLeaves) {
    core::metrics m;
    presence_hub hub(m);
    auto alice = std::make_shared<recording_peer>();
    auto bob = std::make_shared<recording_peer>();
    hub.join(alice, {1, "alice", "s1"});
    EXPECT_EQ(alice->last_online(), (std::vector<std::string>{"alice"}));
    hub.join(bob, {2, "bob", "s2"});
    EXPECT_EQ(alice->last_online(), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(bob->last_online(), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(m.users_online.load(), 2);
    hub.leave(bob.get());
    EXPECT_EQ(alice->last_online(), (std::vector<std::string>{"alice"}));
    EXPECT_EQ(m.users_online.load(), 1);
}

TEST(PresenceHub, SeveralTabsCountOnce) {
    core::metrics m;
    presence_hub hub(m);
    auto alice1 = std::make_shared<recording_peer>();
    auto alice2 = std::make_shared<recording_peer>();
    auto bob = std::make_shared<recording_peer>();
    hub.join(bob, {2, "bob", "s2"});
    hub.join(alice1, {1, "alice", "s1"});
    std::size_t bob_seen = bob->messages.size();
    hub.join(alice2, {1, "alice", "s1b"});
    EXPECT_EQ(bob->messages.size(), bob_seen);  // nothing changed for bob
    EXPECT_EQ(alice2->last_online(), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(hub.online().size(), 2u);
    hub.leave(alice1.get());
    EXPECT_EQ(bob->messages.size(), bob_seen);  // alice is still online in her other tab
    hub.leave(alice2.get());
    EXPECT_EQ(bob->last_online(), (std::vector<std::string>{"bob"}));
}

TEST(PresenceHub, EndingALoginClosesItsConnectionsOnly) {
    core::metrics m;
    presence_hub hub(m);
    auto a = std::make_shared<recording_peer>();
    auto b = std::make_shared<recording_peer>();
    hub.join(a, {1, "alice", "s1"});
    hub.join(b, {1, "alice", "s2"});
    hub.end_login_session("s1");
    EXPECT_EQ(a->closed_with, close_reason::login_ended);
    EXPECT_FALSE(b->closed_with);
    hub.end_user(1);
    EXPECT_EQ(b->closed_with, close_reason::login_ended);
}

TEST(PresenceMessage, EscapesNames) {
    std::string msg = presence_message({{1, "a\"b"}});
    auto v = boost::json::parse(msg);
    EXPECT_EQ(v.at("online").at(0).at("username").as_string(), "a\"b");
}

TEST(ControlMessages, PingAndErrors) {
    EXPECT_EQ(*handle_control_message(R"({"type":"ping"})"), R"({"type":"pong"})");
    auto unknown = boost::json::parse(*handle_control_message(R"({"type":"launch"})"));
    EXPECT_EQ(unknown.at("error").at("code").as_string(), "unknown_type");
    for (const char* bad : {"", "[]", "{}", R"({"type":5})", "{\"type\":", "[[[[[[[[[[[[]]]]]]]]]]]]"}) {
        auto reply = boost::json::parse(*handle_control_message(bad));
        EXPECT_EQ(reply.at("error").at("code").as_string(), "malformed") << bad;
    }
}

}  // namespace
}  // namespace secms::channel

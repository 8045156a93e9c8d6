#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "server/channel/testing/recording_peer.hpp"
#include "server/chat/chat_extension.hpp"
#include "server/chat/room_hub.hpp"
#include "server/chat/room_messages.hpp"
#include "server/store/sqlite/sqlite_store.hpp"

namespace secms::chat {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

using channel::testing::recording_peer;

std::vector<std::string> names(const json::object& o, std::string_view key = "members") {
    std::vector<std::string> out;
    for (auto& m : o.at(key).as_array()) out.emplace_back(m.as_string());
    return out;
}

using strings = std::vector<std::string>;

store::new_user account(std::string name, store::role r = store::role::user) {
    return {std::move(name), "argon2id$x", 1, r, 1};
}

class RoomTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(users_->create(account("alice")));
        ASSERT_TRUE(users_->create(account("bob")));
        ASSERT_TRUE(users_->create(account("carol")));
        ASSERT_TRUE(users_->create(account("mod", store::role::moderator)));
        ASSERT_TRUE(users_->create(account("offline")));
    }
    std::shared_ptr<recording_peer> connect(std::int64_t userid, std::string name,
                                            store::role r = store::role::user,
                                            std::string ip = "192.0.2.1") {
        auto p = std::make_shared<recording_peer>();
        hub_.connect(p, {userid, std::move(name), "s", r, std::move(ip)});
        return p;
    }
    channel::message_ptr frame(std::string_view room, std::uint64_t seq, std::string body = "c",
                               room_frame_type t = room_frame_type::message) {
        return std::make_shared<const std::string>(make_room_frame(t, room, seq, body));
    }

    core::manual_clock clock_;
    std::unique_ptr<store::user_store> users_ = store::make_memory_store();
    std::unique_ptr<store::ban_store> bans_ = store::make_memory_ban_store();
    room_settings settings_{};
    room_hub hub_{*users_, *bans_, clock_, settings_};
    std::shared_ptr<recording_peer> alice_ = connect(1, "alice");
    std::shared_ptr<recording_peer> bob_ = connect(2, "bob");
    std::shared_ptr<recording_peer> carol_ = connect(3, "carol");
    std::shared_ptr<recording_peer> mod_ =
        connect(4, "mod", store::role::moderator, "198.51.100.7");
};

TEST_F(RoomTest, LobbyExistsAndJoinLeaveBroadcastMembership) {
    EXPECT_EQ(hub_.room_count(), 1u);
    auto a = hub_.join(alice_.get(), "lobby");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->room.id, public_room_id("lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "LOBBY"));  // names ignore case
    // The joiner gets the whole list; the others only the change.
    auto whole = bob_->last("room_members");
    EXPECT_EQ(whole.at("event").as_string(), "joined");
    EXPECT_EQ(whole.at("user").as_string(), "bob");
    EXPECT_EQ(names(whole), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(alice_->count("room_members"), 1u);  // her own join only
    auto event = alice_->last("room_member_joined");
    EXPECT_EQ(event.at("user").as_string(), "bob");
    EXPECT_EQ(event.at("room").as_string(), public_room_id("lobby"));
    EXPECT_FALSE(event.at("moderator").as_bool());
    EXPECT_FALSE(event.contains("members"));
    ASSERT_TRUE(hub_.leave(bob_.get(), "lobby"));
    event = alice_->last("room_member_left");
    EXPECT_EQ(event.at("event").as_string(), "left");
    EXPECT_EQ(event.at("user").as_string(), "bob");
    EXPECT_EQ(bob_->last("room_member_left").at("event").as_string(), "left");  // the leaver too
    EXPECT_EQ(hub_.leave(bob_.get(), "lobby").error().error, chat_error::not_a_member);
    ASSERT_TRUE(hub_.leave(alice_.get(), "lobby"));
    EXPECT_EQ(hub_.room_count(), 1u);  // the lobby stays when empty
}

TEST_F(RoomTest, PublicRoomsAreListedAndVanishWhenEmpty) {
    ASSERT_TRUE(hub_.join(alice_.get(), "rust"));
    ASSERT_TRUE(hub_.join(bob_.get(), "rust"));
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    auto rooms = hub_.list();
    ASSERT_EQ(rooms.size(), 2u);
    EXPECT_EQ(rooms[0].room.name, "lobby");
    EXPECT_EQ(rooms[0].members, 1u);
    EXPECT_EQ(rooms[1].room.name, "rust");
    EXPECT_EQ(rooms[1].members, 2u);
    EXPECT_EQ(hub_.join(alice_.get(), "no spaces").error().error, chat_error::bad_room_name);
    EXPECT_EQ(hub_.join(alice_.get(), std::string(25, 'a')).error().error,
              chat_error::bad_room_name);
    EXPECT_EQ(hub_.join(alice_.get(), std::string(32, 'a')).error().error,
              chat_error::room_not_found);  // an id, not a name
    ASSERT_TRUE(hub_.leave(alice_.get(), "rust"));
    ASSERT_TRUE(hub_.leave(bob_.get(), "rust"));
    EXPECT_EQ(hub_.list().size(), 1u);
}

TEST_F(RoomTest, WhoAndWhereis) {
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    auto secret = hub_.join(alice_.get(), "");
    ASSERT_TRUE(secret);
    auto who = hub_.who(bob_.get(), "lobby");  // public: anyone
    ASSERT_TRUE(who);
    EXPECT_EQ(who->members, (std::vector<std::string>{"alice"}));
    EXPECT_EQ(hub_.who(bob_.get(), secret->room.id).error().error, chat_error::not_a_member);
    EXPECT_TRUE(hub_.who(alice_.get(), secret->room.id));
    auto where = hub_.whereis("ALICE");
    EXPECT_TRUE(where.online);
    ASSERT_EQ(where.rooms.size(), 1u);  // public rooms only
    EXPECT_EQ(where.rooms[0].name, "lobby");
    EXPECT_FALSE(hub_.whereis("offline").online);
}

TEST_F(RoomTest, RoomViewsNameTheModeratorsAmongTheMembers) {
    auto admin = connect(6, "zed", store::role::admin);
    auto a = hub_.join(alice_.get(), "lobby");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->moderators.empty());
    ASSERT_TRUE(hub_.join(mod_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(admin.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    EXPECT_EQ(names(bob_->last("room_members"), "moderators"), (strings{"mod", "zed"}));  // sorted
    EXPECT_TRUE(alice_->last("room_member_joined").at("moderator").as_bool() == false);
    EXPECT_EQ(alice_->count("room_member_joined"), 3u);  // mod, zed, bob
    auto who = hub_.who(carol_.get(), "lobby");
    ASSERT_TRUE(who);
    EXPECT_EQ(who->moderators, (strings{"mod", "zed"}));
    // A moderator who is not in the room is not one of its moderators.
    auto secret = hub_.join(alice_.get(), "");
    ASSERT_TRUE(secret);
    EXPECT_TRUE(secret->moderators.empty());
    auto seen = hub_.who(mod_.get(), secret->room.id);  // moderators may look
    ASSERT_TRUE(seen);
    EXPECT_TRUE(seen->moderators.empty());
    // Leaving takes a moderator off the list.
    ASSERT_TRUE(hub_.leave(admin.get(), "lobby"));
    auto event = alice_->last("room_member_left");
    EXPECT_EQ(event.at("event").as_string(), "left");
    EXPECT_EQ(event.at("user").as_string(), "zed");
    EXPECT_EQ(hub_.who(alice_.get(), "lobby")->moderators, (strings{"mod"}));
    // The role is that of the user's latest login: a new connection brings the current one.
    auto bob2 = connect(2, "bob", store::role::moderator);
    EXPECT_EQ(hub_.who(alice_.get(), "lobby")->moderators, (strings{"bob", "mod"}));
    auto mod2 = connect(4, "mod", store::role::user);
    EXPECT_EQ(hub_.who(alice_.get(), "lobby")->moderators, (strings{"bob"}));
    // Through the JSON layer: room_joined and room_who carry the list, empty included.
    handle_room_message(hub_, carol_, "room_join", json::parse(R"({"room":"lobby"})").as_object());
    auto joined = carol_->last("room_joined");
    EXPECT_EQ(names(joined, "moderators"), (strings{"bob"}));
    // … and room_joined the limits the server enforces.
    EXPECT_EQ(joined.at("limits").at("flood_per_minute").as_int64(), 20);
    EXPECT_EQ(joined.at("limits").at("control_per_minute").as_int64(), 30);
    EXPECT_EQ(joined.at("limits").at("max_message_chars").as_int64(), 1040);
    EXPECT_EQ(names(carol_->last("room_members"), "moderators"), (strings{"bob"}));
    handle_room_message(hub_, alice_, "room_who",
                        json::parse(R"({"room":")" + secret->room.id + R"("})").as_object());
    auto private_who = alice_->last("room_who");
    ASSERT_TRUE(private_who.contains("moderators"));
    EXPECT_TRUE(private_who.at("moderators").as_array().empty());
}

TEST_F(RoomTest, PrivateRoomsByInvitation) {
    auto made = hub_.join(alice_.get(), "");
    ASSERT_TRUE(made);
    const std::string id = made->room.id;
    EXPECT_TRUE(is_room_id(id));
    EXPECT_TRUE(made->room.name.empty());
    EXPECT_EQ(made->owner, "alice");
    EXPECT_TRUE(hub_.list().size() == 1u);  // not listed
    EXPECT_EQ(hub_.join(bob_.get(), id).error().error, chat_error::not_invited);
    EXPECT_EQ(hub_.invite(bob_.get(), id, "carol").error().error, chat_error::not_a_member);
    ASSERT_TRUE(hub_.invite(alice_.get(), id, "bob"));
    EXPECT_EQ(bob_->last("room_invitation").at("by").as_string(), "alice");
    EXPECT_EQ(hub_.invite(alice_.get(), id, "nobody").error().error, chat_error::user_not_found);
    EXPECT_EQ(hub_.invite(alice_.get(), "lobby", "bob").error().error, chat_error::not_private);
    ASSERT_TRUE(hub_.join(bob_.get(), id));
    ASSERT_TRUE(hub_.invite(bob_.get(), id, "carol"));
    ASSERT_TRUE(hub_.join(carol_.get(), id));
    // Only the owner, the inviter or a moderator withdraws an invitation.
    ASSERT_TRUE(hub_.invite(alice_.get(), id, "offline"));  // an offline user may be invited
    EXPECT_EQ(hub_.uninvite(carol_.get(), id, "offline").error().error, chat_error::forbidden);
    ASSERT_TRUE(hub_.uninvite(bob_.get(), id, "carol"));  // the inviter
    auto event = alice_->last("room_member_left");
    EXPECT_EQ(event.at("event").as_string(), "removed");
    EXPECT_EQ(event.at("user").as_string(), "carol");
    EXPECT_EQ(carol_->last("room_member_left").at("event").as_string(), "removed");
    EXPECT_EQ(hub_.join(carol_.get(), id).error().error, chat_error::not_invited);
    EXPECT_EQ(hub_.uninvite(alice_.get(), id, "carol").error().error, chat_error::not_invited);
    // Empty private rooms vanish.
    ASSERT_TRUE(hub_.leave(bob_.get(), id));
    ASSERT_TRUE(hub_.leave(alice_.get(), id));
    EXPECT_EQ(hub_.join(alice_.get(), id).error().error, chat_error::room_not_found);
}

TEST_F(RoomTest, MembershipIsPerUserAcrossTabsAndEndsWithTheLastConnection) {
    auto alice2 = connect(1, "alice");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    EXPECT_EQ(alice2->last("room_member_joined").at("user").as_string(), "bob");  // other tab
    ASSERT_TRUE(hub_.relay(bob_.get(), frame(public_room_id("lobby"), 0)));
    EXPECT_EQ(alice_->binaries.size(), 1u);
    EXPECT_EQ(alice2->binaries.size(), 1u);
    ASSERT_TRUE(hub_.relay(alice_.get(), frame(public_room_id("lobby"), 0)));
    EXPECT_EQ(alice2->binaries.size(), 2u);  // the sender's other tab gets it too
    EXPECT_EQ(alice_->binaries.size(), 1u);  // not the sending connection
    hub_.disconnect(alice_.get());
    EXPECT_EQ(hub_.who(bob_.get(), "lobby")->members.size(), 2u);
    hub_.disconnect(alice2.get());
    EXPECT_EQ(hub_.who(bob_.get(), "lobby")->members, (std::vector<std::string>{"bob"}));
    EXPECT_EQ(bob_->last("room_member_left").at("event").as_string(), "left");
}

TEST_F(RoomTest, ModeratorCommandsAreRefusedToUsers) {
    EXPECT_EQ(hub_.kick(alice_.get(), "bob", 5).error().error, chat_error::forbidden);
    EXPECT_EQ(hub_.bans(alice_.get()).error().error, chat_error::forbidden);
    EXPECT_EQ(hub_.unban(alice_.get(), "bob").error().error, chat_error::forbidden);
    EXPECT_EQ(hub_.whois(alice_.get(), "bob").error().error, chat_error::forbidden);
    // Nor may a moderator act on a moderator.
    ASSERT_TRUE(users_->create(account("mod2", store::role::moderator)));
    EXPECT_EQ(hub_.kick(mod_.get(), "mod2", 5).error().error, chat_error::forbidden);
    EXPECT_EQ(hub_.kick(mod_.get(), "bob", 0).error().error, chat_error::bad_duration);
    EXPECT_EQ(hub_.kick(mod_.get(), "bob", max_ban_minutes + 1).error().error,
              chat_error::bad_duration);
}

TEST_F(RoomTest, ARoleChangedByAnAdministratorCountsAtOnce) {
    hub_.set_role(4, store::role::user);  // the moderator is demoted while connected
    EXPECT_EQ(hub_.kick(mod_.get(), "bob", 5).error().error, chat_error::forbidden);
    EXPECT_EQ(hub_.whois(mod_.get(), "bob").error().error, chat_error::forbidden);
    hub_.set_role(1, store::role::moderator);  // alice is promoted
    EXPECT_TRUE(hub_.whois(alice_.get(), "bob"));
    hub_.set_role(99, store::role::admin);  // not online: nothing to change
}

TEST_F(RoomTest, KickRemovesBansUntilExpiryAndUnban) {
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "rust"));
    auto ban = hub_.kick(mod_.get(), "bob", 1);
    ASSERT_TRUE(ban);
    EXPECT_EQ(ban->until, clock_.unix_now() + 60);
    auto event = alice_->last("room_member_left");
    EXPECT_EQ(event.at("event").as_string(), "kicked");
    EXPECT_EQ(event.at("user").as_string(), "bob");
    EXPECT_EQ(hub_.who(alice_.get(), "lobby")->members, (std::vector<std::string>{"alice"}));
    EXPECT_EQ(bob_->last("room_banned").at("until").as_int64(), ban->until);
    EXPECT_EQ(hub_.list().size(), 1u);  // rust emptied and vanished
    auto refused = hub_.join(bob_.get(), "lobby");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().error, chat_error::banned);
    EXPECT_EQ(refused.error().until, ban->until);
    auto listed = hub_.bans(mod_.get());
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].username, "bob");
    EXPECT_EQ((*listed)[0].by, "mod");
    clock_.advance(61s);
    EXPECT_TRUE(hub_.join(bob_.get(), "lobby"));  // over
    hub_.sweep();
    EXPECT_TRUE(bans_->active(0, 10)->empty());  // cleaned up in the store too
    // Unban lifts a ban at once; unbanning again says so.
    ASSERT_TRUE(hub_.kick(mod_.get(), "bob", 15));
    ASSERT_TRUE(hub_.unban(mod_.get(), "BOB"));
    EXPECT_TRUE(hub_.join(bob_.get(), "lobby"));
    EXPECT_EQ(hub_.unban(mod_.get(), "bob").error().error, chat_error::not_banned);
    // An offline user can be banned too.
    ASSERT_TRUE(hub_.kick(mod_.get(), "offline", 15));
    EXPECT_EQ(hub_.kick(mod_.get(), "nobody", 15).error().error, chat_error::user_not_found);
}

TEST_F(RoomTest, WhoisShowsAddressesToModerators) {
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(alice_.get(), ""));
    auto w = hub_.whois(mod_.get(), "alice");
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->online);
    EXPECT_EQ(w->addresses, (std::vector<std::string>{"192.0.2.1"}));
    EXPECT_EQ(w->rooms.size(), 2u);
    EXPECT_EQ(w->role, store::role::user);
    EXPECT_EQ(hub_.whois(bob_.get(), "alice").error().error, chat_error::forbidden);
    auto off = hub_.whois(mod_.get(), "offline");
    ASSERT_TRUE(off);
    EXPECT_FALSE(off->online);
    EXPECT_TRUE(off->addresses.empty());
    // Through the JSON layer: a user gets an error, never the address.
    handle_room_message(hub_, bob_, "mod_whois", json::parse(R"({"user":"alice"})").as_object());
    EXPECT_EQ(bob_->last("error").at("error").at("code").as_string(), "forbidden");
    for (auto& t : bob_->texts) EXPECT_EQ(t.find("192.0.2.1"), std::string::npos);
    handle_room_message(hub_, mod_, "mod_whois", json::parse(R"({"user":"alice"})").as_object());
    EXPECT_EQ(mod_->last("mod_whois").at("addresses").at(0).as_string(), "192.0.2.1");
}

TEST_F(RoomTest, FanOutReachesOtherMembersOnlyInOrder) {
    const std::string lobby = public_room_id("lobby");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(mod_.get(), "lobby"));
    for (std::uint64_t i = 0; i < 3; ++i) {
        auto d = hub_.relay(alice_.get(), frame(lobby, i, "m" + std::to_string(i)));
        ASSERT_TRUE(d);
        EXPECT_EQ(d->receivers, 2u);
        EXPECT_EQ(d->sequence, i);
    }
    ASSERT_EQ(bob_->binaries.size(), 3u);
    ASSERT_EQ(mod_->binaries.size(), 3u);
    EXPECT_TRUE(alice_->binaries.empty());
    EXPECT_TRUE(carol_->binaries.empty());  // not a member
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(bob_->binaries[i], make_room_frame(room_frame_type::message, lobby, i,
                                                     "m" + std::to_string(i)));  // unchanged
    }
    // Gaps and replays are refused; nothing is forwarded.
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 5)).error().error, chat_error::out_of_order);
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 2)).error().error, chat_error::out_of_order);
    // Non-members, unknown rooms and malformed frames are refused.
    EXPECT_EQ(hub_.relay(carol_.get(), frame(lobby, 0)).error().error, chat_error::not_a_member);
    EXPECT_EQ(hub_.relay(alice_.get(), frame(std::string(32, 'a'), 0)).error().error,
              chat_error::room_not_found);
    EXPECT_EQ(
        hub_.relay(alice_.get(), std::make_shared<const std::string>("\x03short")).error().error,
        chat_error::bad_frame);
    EXPECT_EQ(bob_->binaries.size(), 3u);
    // After leaving, frames to the room are refused; a rejoin starts at 0 again.
    ASSERT_TRUE(hub_.leave(alice_.get(), "lobby"));
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 3)).error().error, chat_error::not_a_member);
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    EXPECT_TRUE(hub_.relay(alice_.get(), frame(lobby, 0)));
}

TEST_F(RoomTest, FloodLimitPerMinuteThenAllowedAfterTheWindow) {
    const std::string lobby = public_room_id("lobby");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    for (std::uint64_t i = 0; i < 20; ++i) {
        ASSERT_TRUE(hub_.relay(alice_.get(), frame(lobby, i))) << i;
        clock_.advance(1s);
    }
    auto limited = hub_.relay(alice_.get(), frame(lobby, 20));
    ASSERT_FALSE(limited);
    EXPECT_EQ(limited.error().error, chat_error::flood_limited);
    EXPECT_EQ(limited.error().retry_after, 40);  // the first message leaves the window then
    EXPECT_EQ(bob_->binaries.size(), 20u);
    // Control frames have their own cap and do not count as messages (one sequence for both).
    EXPECT_TRUE(hub_.relay(alice_.get(), frame(lobby, 20, "del", room_frame_type::control)));
    clock_.advance(40s);
    EXPECT_TRUE(hub_.relay(alice_.get(), frame(lobby, 21)));  // the next sequence, now accepted
    auto e = json::parse(error_message(limited.error(), lobby));
    EXPECT_EQ(e.at("error").at("retry_after").as_int64(), 40);
}

TEST_F(RoomTest, TheExtensionAnswersMessageAndControlFrames) {
    boost::asio::thread_pool pool(1);
    chat_extension ext(hub_, pool);
    const std::string lobby = public_room_id("lobby");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.join(bob_.get(), "lobby"));
    EXPECT_TRUE(ext.handles_frame(3));
    EXPECT_TRUE(ext.handles_frame(4));
    ext.relay(alice_, frame(lobby, 0));
    auto sent = alice_->last("room_sent");
    EXPECT_EQ(sent.at("room").as_string(), lobby);
    EXPECT_EQ(sent.at("sequence").to_number<std::uint64_t>(), 0u);
    EXPECT_FALSE(sent.contains("control"));  // a room message
    ext.relay(alice_, frame(lobby, 1, "del", room_frame_type::control));
    sent = alice_->last("room_sent");
    EXPECT_EQ(sent.at("room").as_string(), lobby);
    EXPECT_EQ(sent.at("sequence").to_number<std::uint64_t>(), 1u);
    EXPECT_TRUE(sent.at("control").as_bool());
    EXPECT_EQ(alice_->count("room_sent"), 2u);
    EXPECT_EQ(bob_->binaries.size(), 2u);
    EXPECT_EQ(bob_->count("room_sent"), 0u);  // only the sender is answered
    // A refused control frame is answered with an error, not room_sent.
    ext.relay(alice_, frame(lobby, 5, "del", room_frame_type::control));
    EXPECT_EQ(alice_->last("error").at("error").at("code").as_string(), "out_of_order");
    EXPECT_EQ(alice_->count("room_sent"), 2u);
    pool.join();
}

TEST_F(RoomTest, OversizedBodiesAreRefused) {
    const std::string lobby = public_room_id("lobby");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    const std::size_t max = max_message_body_bytes(settings_);
    EXPECT_EQ(max, 1040u * 4 + envelope_overhead_bytes);
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 0, std::string(max + 1, 'x'))).error().error,
              chat_error::message_too_long);
    EXPECT_TRUE(hub_.relay(alice_.get(), frame(lobby, 0, std::string(max, 'x'))));
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 1, std::string(max_control_body_bytes + 1, 'x'),
                                             room_frame_type::control))
                  .error()
                  .error,
              chat_error::message_too_long);
}

TEST_F(RoomTest, BannedMembersFramesAreRefused) {
    const std::string lobby = public_room_id("lobby");
    ASSERT_TRUE(hub_.join(alice_.get(), "lobby"));
    ASSERT_TRUE(hub_.kick(mod_.get(), "alice", 5));
    EXPECT_EQ(hub_.relay(alice_.get(), frame(lobby, 0)).error().error, chat_error::not_a_member);
}

TEST_F(RoomTest, JsonLayerAnswersAndRefuses) {
    handle_room_message(hub_, alice_, "room_join", json::parse(R"({"room":"lobby"})").as_object());
    auto joined = alice_->last("room_joined");
    EXPECT_EQ(joined.at("name").as_string(), "lobby");
    EXPECT_TRUE(joined.at("public").as_bool());
    handle_room_message(hub_, alice_, "room_join", json::parse("{}").as_object());
    EXPECT_FALSE(alice_->last("room_joined").at("public").as_bool());
    handle_room_message(hub_, alice_, "room_list", json::object{});
    EXPECT_EQ(alice_->last("room_list").at("rooms").as_array().size(), 1u);
    handle_room_message(hub_, alice_, "room_leave", json::object{});
    EXPECT_EQ(alice_->last("error").at("error").at("code").as_string(), "malformed");
    handle_room_message(hub_, alice_, "room_nonsense", json::object{});
    EXPECT_EQ(alice_->last("error").at("error").at("code").as_string(), "unknown_type");
    handle_room_message(hub_, mod_, "mod_kick", json::parse(R"({"user":"bob"})").as_object());
    EXPECT_EQ(mod_->last("mod_kicked").at("until").as_int64(), clock_.unix_now() + 15 * 60);
    handle_room_message(hub_, bob_, "room_join", json::parse(R"({"room":"lobby"})").as_object());
    auto e = bob_->last("error");
    EXPECT_EQ(e.at("error").at("code").as_string(), "banned");
    EXPECT_EQ(e.at("error").at("until").as_int64(), clock_.unix_now() + 15 * 60);
    EXPECT_TRUE(is_room_message("user_whereis"));
    EXPECT_FALSE(is_room_message("channel_request"));
}

TEST_F(RoomTest, RoomLimits) {
    room_settings tight;
    tight.max_rooms = 3;  // the lobby and two more
    tight.max_members_per_room = 2;
    tight.max_rooms_per_user = 2;
    room_hub hub{*users_, *bans_, clock_, tight};
    auto a = std::make_shared<recording_peer>();
    auto b = std::make_shared<recording_peer>();
    auto c = std::make_shared<recording_peer>();
    hub.connect(a, {1, "alice", "s", store::role::user, ""});
    hub.connect(b, {2, "bob", "s", store::role::user, ""});
    hub.connect(c, {3, "carol", "s", store::role::user, ""});
    ASSERT_TRUE(hub.join(a.get(), "one"));
    ASSERT_TRUE(hub.join(a.get(), "two"));
    EXPECT_EQ(hub.join(a.get(), "lobby").error().error, chat_error::too_many_joined);
    EXPECT_EQ(hub.join(b.get(), "three").error().error, chat_error::too_many_rooms);
    ASSERT_TRUE(hub.join(b.get(), "one"));
    EXPECT_EQ(hub.join(c.get(), "one").error().error, chat_error::room_full);
}

// Each join or leave used to send the whole member list to every member: quadratic in the room's
// size. Now the others get a small change; only the joiner gets the list.
TEST_F(RoomTest, JoinAndLeaveCostOneSmallMessagePerOtherMember) {
    std::vector<std::shared_ptr<recording_peer>> listeners;
    for (int i = 0; i < 200; ++i) {
        auto p = connect(100 + i, "listener" + std::to_string(i));
        ASSERT_TRUE(hub_.join(p.get(), "big"));
        listeners.push_back(p);
    }
    auto bytes = [&] {
        std::size_t total = 0;
        for (auto& p : listeners) {
            for (auto& t : p->texts) total += t.size();
            p->texts.clear();
        }
        return total;
    };
    bytes();
    for (int round = 0; round < 10; ++round) {
        ASSERT_TRUE(hub_.join(alice_.get(), "big"));
        ASSERT_TRUE(hub_.leave(alice_.get(), "big"));
    }
    // 20 changes × 200 listeners, each one message of well under 160 bytes (a list of 200
    // names would be about 3 KB each).
    EXPECT_LT(bytes(), 20u * 200u * 160u);
    EXPECT_EQ(listeners.back()->count("room_member_joined"), 0u);  // cleared above
    ASSERT_TRUE(hub_.join(alice_.get(), "big"));
    EXPECT_EQ(listeners.front()->count("room_member_joined"), 1u);
    EXPECT_EQ(listeners.front()->count("room_members"), 0u);
    EXPECT_EQ(alice_->last("room_members").at("members").as_array().size(), 201u);
}

// Past the per-request fan-out budget a join is refused before anything is sent, and undone.
TEST_F(RoomTest, AJoinOverTheFanOutBudgetIsRefusedBeforeSending) {
    room_settings tight;
    tight.max_fanout_bytes = 4000;
    room_hub hub{*users_, *bans_, clock_, tight};
    std::vector<std::shared_ptr<recording_peer>> members;
    for (int i = 0; i < 40; ++i) {
        auto p = std::make_shared<recording_peer>();
        hub.connect(p, {100 + i, "m" + std::to_string(i), "s", store::role::user, ""});
        auto joined = hub.join(p.get(), "crowd");
        if (!joined) {
            EXPECT_EQ(joined.error().error, chat_error::fanout_limited);
            EXPECT_TRUE(p->texts.empty());
            break;
        }
        members.push_back(p);
    }
    ASSERT_GT(members.size(), 5u);
    ASSERT_LT(members.size(), 40u);  // the budget was reached
    for (auto& m : members) m->texts.clear();
    auto late = std::make_shared<recording_peer>();
    hub.connect(late, {999, "late", "s", store::role::user, ""});
    EXPECT_EQ(hub.join(late.get(), "crowd").error().error, chat_error::fanout_limited);
    for (auto& m : members) EXPECT_TRUE(m->texts.empty());
    EXPECT_EQ(hub.who(late.get(), "crowd")->members.size(), members.size());
    // A refused join that would have made the room makes none.
    tight.max_fanout_bytes = 10;
    room_hub none{*users_, *bans_, clock_, tight};
    none.connect(late, {999, "late", "s", store::role::user, ""});
    EXPECT_EQ(none.join(late.get(), "fresh").error().error, chat_error::fanout_limited);
    EXPECT_EQ(none.join(late.get(), "").error().error, chat_error::fanout_limited);
    EXPECT_EQ(none.room_count(), 1u);
    EXPECT_EQ(none.private_room_count(), 0u);
}

// A few accounts making private rooms used to use up the server's room limit for everyone.
TEST_F(RoomTest, PrivateRoomsArePerUserAndCountedApart) {
    room_settings s;  // the defaults
    room_hub hub{*users_, *bans_, clock_, s};
    std::vector<std::shared_ptr<recording_peer>> attackers;
    for (int i = 0; i < 32; ++i) {
        auto p = std::make_shared<recording_peer>();
        hub.connect(p, {100 + i, "a" + std::to_string(i), "s", store::role::user, ""});
        std::size_t made = 0;
        for (int j = 0; j < 32; ++j) {
            auto r = hub.join(p.get(), "");
            if (r) {
                ++made;
            } else {
                EXPECT_EQ(r.error().error, chat_error::too_many_private_rooms);
            }
        }
        EXPECT_EQ(made, s.max_private_rooms_per_user);
        attackers.push_back(p);
    }
    EXPECT_EQ(hub.private_room_count(), 32u * s.max_private_rooms_per_user);
    auto victim = std::make_shared<recording_peer>();
    hub.connect(victim, {1, "alice", "s", store::role::user, ""});
    EXPECT_TRUE(hub.join(victim.get(), "newroom"));
    EXPECT_TRUE(hub.join(victim.get(), ""));

    // The global private cap is apart from the public one, and an ended room frees its count.
    room_settings tight;
    tight.max_rooms = 2;  // the lobby and one more
    tight.max_private_rooms = 3;
    tight.max_private_rooms_per_user = 2;
    room_hub small{*users_, *bans_, clock_, tight};
    auto a = std::make_shared<recording_peer>();
    auto b = std::make_shared<recording_peer>();
    small.connect(a, {1, "alice", "s", store::role::user, ""});
    small.connect(b, {2, "bob", "s", store::role::user, ""});
    auto first = small.join(a.get(), "");
    ASSERT_TRUE(first);
    ASSERT_TRUE(small.join(a.get(), ""));
    EXPECT_EQ(small.join(a.get(), "").error().error, chat_error::too_many_private_rooms);
    ASSERT_TRUE(small.join(b.get(), ""));
    EXPECT_EQ(small.join(b.get(), "").error().error, chat_error::too_many_rooms);
    EXPECT_TRUE(small.join(b.get(), "public"));  // the public share is untouched
    EXPECT_EQ(small.join(b.get(), "another").error().error, chat_error::too_many_rooms);
    ASSERT_TRUE(small.leave(a.get(), first->room.id));  // empty: it ends
    EXPECT_TRUE(small.join(a.get(), ""));
}

TEST(RoomBans, SurviveAStoreReopen) {
    fs::path dir = fs::temp_directory_path() / ("secms-chat-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path db = dir / "users.db";
    core::manual_clock clock;
    std::int64_t until = 0;
    {
        auto users = std::move(store::open_sqlite_store(db)).value();
        ASSERT_TRUE(users->create(account("bob")));
        ASSERT_TRUE(users->create(account("mod", store::role::moderator)));
        auto bans = std::move(store::open_sqlite_ban_store(db)).value();
        room_hub hub{*users, *bans, clock, {}};
        ASSERT_TRUE(hub.load_bans());
        auto m = std::make_shared<recording_peer>();
        hub.connect(m, {2, "mod", "s", store::role::moderator, ""});
        auto ban = hub.kick(m.get(), "bob", 30);
        ASSERT_TRUE(ban);
        until = ban->until;
    }
    {
        auto users = std::move(store::open_sqlite_store(db)).value();
        auto bans = std::move(store::open_sqlite_ban_store(db)).value();
        room_hub hub{*users, *bans, clock, {}};
        ASSERT_TRUE(hub.load_bans());
        auto b = std::make_shared<recording_peer>();
        hub.connect(b, {1, "bob", "s", store::role::user, ""});
        auto refused = hub.join(b.get(), "lobby");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().error, chat_error::banned);
        EXPECT_EQ(refused.error().until, until);
        auto m = std::make_shared<recording_peer>();
        hub.connect(m, {2, "mod", "s", store::role::moderator, ""});
        auto listed = hub.bans(m.get());
        ASSERT_EQ(listed->size(), 1u);
        EXPECT_EQ((*listed)[0].username, "bob");
        EXPECT_EQ((*listed)[0].by, "mod");
    }
    fs::remove_all(dir);
}

TEST(RoomFrame, HeaderRoundTripAndRefusals) {
    std::string id(32, 'b');
    std::string f = make_room_frame(room_frame_type::control, id, 0x0102030405060708ULL, "body");
    auto h = parse_room_header(f);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, room_frame_type::control);
    EXPECT_EQ(h->room_id, id);
    EXPECT_EQ(h->sequence, 0x0102030405060708ULL);
    EXPECT_EQ(h->body_size, 4u);
    EXPECT_FALSE(parse_room_header(make_room_frame(room_frame_type::message, id, 1, "")));
    std::string bad = f;
    bad[0] = 2;
    EXPECT_FALSE(parse_room_header(bad));
    EXPECT_FALSE(
        parse_room_header(make_room_frame(room_frame_type::message, std::string(32, 'G'), 1, "x")));
}

TEST(ChatErrors, EveryErrorHasCodeAndMessage) {
    std::set<std::string_view> codes;
    for (int i = 0; i <= static_cast<int>(chat_error::unavailable); ++i) {
        auto e = static_cast<chat_error>(i);
        EXPECT_FALSE(message(e).empty());
        EXPECT_TRUE(codes.insert(code(e)).second) << code(e);
    }
}

}  // namespace
}  // namespace secms::chat

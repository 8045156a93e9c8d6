// The chat rooms (volatile, like the secure-channel sessions): who is in which room, the
// invitations of private rooms, the fan-out of room frames, flood control, and the moderators'
// bans (kept in the ban store so they survive a restart; cached here for the frame path).
//
// Membership is per user, not per connection: a user who joins a room is in it from all their
// tabs, every tab receives its frames, and the user leaves when they ask or when their last
// connection closes. The server sees who is in a room, never what is said there.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/channel/peer.hpp"
#include "server/chat/chat_error.hpp"
#include "server/chat/room_frame.hpp"
#include "server/core/clock.hpp"
#include "server/core/result.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/user_store.hpp"

namespace secms::chat {

struct room_settings {
    std::size_t flood_per_minute = 20;    // room messages (frame 3) per user per minute
    std::size_t control_per_minute = 30;  // room control frames (frame 4) per user per minute
    std::size_t max_message_chars = 1040;
    std::size_t max_rooms = 1000;  // public rooms (the lobby included)
    std::size_t max_members_per_room = 256;
    std::size_t max_rooms_per_user = 32;
    // Private rooms are counted apart, so a few accounts making private rooms cannot use up the
    // public rooms' share (nor the other way round), and each user may own only so many.
    std::size_t max_private_rooms = 1000;
    std::size_t max_private_rooms_per_user = 8;
    // What one control message may make the server send, in bytes over all the connections it
    // reaches (a join tells every member's every tab): past it the request is refused before
    // anything is sent. Leaving is never refused; its notice is as small as a join's.
    std::size_t max_fanout_bytes = 256 * 1024;
    std::size_t max_listed = 1000;  // entries of room_list and mod_bans
};

// The public room that always exists.
inline constexpr std::string_view lobby_name = "lobby";
// A room message body is the AEAD ciphertext of at most max_message_chars UTF-8 characters (4
// bytes each at most) plus this much for its envelope: nonce, tag, sender-key id, message id,
// timestamp and signature, with room to spare.
inline constexpr std::size_t envelope_overhead_bytes = 1024;
// A room control body (a signed deletion request or sender-key notice) is small.
inline constexpr std::size_t max_control_body_bytes = 2048;
inline constexpr std::int64_t default_ban_minutes = 15;
inline constexpr std::int64_t max_ban_minutes = 7 * 24 * 60;

std::size_t max_message_body_bytes(const room_settings& s) noexcept;

// Public room names: 1–24 characters of a–z, 0–9, '_' and '-', compared in lower case (so they
// never look like a 32-character room id). Returns the lower-case name, or nullopt.
std::optional<std::string> normalise_room_name(std::string_view name);
// The id of a public room: hex of BLAKE2b-128("secms public room v1:" + name), so every client
// can compute it from the name.
std::string public_room_id(std::string_view name);

struct room_ref {
    std::string id;
    std::string name;  // empty for a private room
};

struct room_view {
    room_ref room;
    std::string owner;                 // private rooms: the creator's username
    std::vector<std::string> members;  // usernames, sorted
    // The members whose account is a moderator or admin, sorted: browsers honour their signed
    // deletion requests in the room.
    std::vector<std::string> moderators;
};

struct room_summary {
    room_ref room;
    std::size_t members = 0;
};

struct ban_view {
    std::int64_t userid = 0;
    std::string username;
    std::int64_t until = 0;  // Unix seconds
    std::string by;          // the moderator's username (may be empty)
    std::int64_t created_at = 0;
};

struct whois_view {
    std::int64_t userid = 0;
    std::string username;
    store::role role = store::role::user;
    bool online = false;
    std::vector<std::string> addresses;  // of the user's connections
    std::vector<room_ref> rooms;         // all of them, private ones included
    std::int64_t banned_until = 0;       // 0: not banned
};

struct whereis_view {
    std::string username;
    bool online = false;
    std::vector<room_ref> rooms;  // public rooms only
};

// A frame that was fanned out.
struct delivery {
    room_frame_type type = room_frame_type::message;
    std::string room_id;
    std::uint64_t sequence = 0;
    std::size_t receivers = 0;                 // connections it was queued for
    std::shared_ptr<channel::peer> congested;  // a receiver to wait for (backpressure), or null
};

template <class T>
using chat_result = core::result<T, refusal>;

class room_hub {
  public:
    // The stores are used outside the hub's lock; callers on I/O threads offload the calls that
    // may reach them (join, invite, uninvite, kick, unban, whois, load_bans, sweep).
    room_hub(store::user_store& users, store::ban_store& bans, const core::clock& clock,
             room_settings settings);
    ~room_hub();
    room_hub(const room_hub&) = delete;
    room_hub& operator=(const room_hub&) = delete;

    const room_settings& settings() const noexcept { return settings_; }

    // Reads the bans in force from the store (at start-up) and deletes the expired ones.
    core::status<chat_error> load_bans();

    // Connections (from the channel hub) --------------------------------------------------------
    void connect(const std::shared_ptr<channel::peer>& p, const channel::member_info& info);
    // The user's last connection leaving takes them out of every room.
    void disconnect(const channel::peer* p);
    // An administrator changed the role of an online user: moderation rights follow at once,
    // without waiting for the user's next connection (member lists show it at the next change).
    void set_role(std::int64_t userid, store::role role);

    // Rooms -------------------------------------------------------------------------------------
    // `room` is a public room's name (created when missing), a room id, or empty: a new private
    // room whose owner is the caller. Joining a room one is in already answers its state.
    chat_result<room_view> join(const channel::peer* from, std::string_view room);
    // Private rooms: a member invites a user; the owner, the inviter or a moderator withdraws an
    // invitation, which also removes the user from the room.
    chat_result<room_ref> invite(const channel::peer* from, std::string_view room,
                                 std::string_view username);
    chat_result<room_ref> uninvite(const channel::peer* from, std::string_view room,
                                   std::string_view username);
    chat_result<room_ref> leave(const channel::peer* from, std::string_view room);
    // Public rooms, by name, with their member counts.
    std::vector<room_summary> list() const;
    // Members of a public room, or of a private room the caller is in.
    chat_result<room_view> who(const channel::peer* from, std::string_view room) const;
    // The public rooms a user is in.
    whereis_view whereis(std::string_view username) const;

    // Moderation (moderator or admin accounts; a target must have a lower role) ----------------
    // Removes the user from every room and bans them from the rooms for `minutes`.
    chat_result<ban_view> kick(const channel::peer* from, std::string_view username,
                               std::int64_t minutes);
    chat_result<std::vector<ban_view>> bans(const channel::peer* from) const;
    chat_result<ban_view> unban(const channel::peer* from, std::string_view username);
    chat_result<whois_view> whois(const channel::peer* from, std::string_view username);

    // Frames ------------------------------------------------------------------------------------
    // Checks a room frame (membership, ban, size, order, flood) and queues it unchanged for
    // every other connection of the room's members.
    chat_result<delivery> relay(const channel::peer* from, const channel::message_ptr& frame);

    // Forgets expired bans (here and in the store) and idle flood windows; called periodically.
    void sweep();

    std::size_t room_count() const;
    std::size_t private_room_count() const;

  private:
    struct connection;
    struct user;
    struct room;
    struct flood_window;
    struct user_ref {
        std::int64_t userid = 0;
        std::string username;
        store::role role = store::role::user;
    };

    chat_result<user_ref> resolve_user(std::string_view username) const;
    std::optional<user_ref> online_user_locked(std::string_view username) const;
    user* user_of_locked(const channel::peer* p);
    const user* user_of_locked(const channel::peer* p) const;
    // The room a request names: by id, or a public room by name (nullopt id when malformed).
    chat_result<std::string> room_id_of(std::string_view room) const;
    // The room a request names, or room_not_found.
    chat_result<room*> find_room_locked(std::string_view room_name) const;
    // The requester and the private room an invitation request names.
    chat_result<std::pair<user*, room*>> private_room_request_locked(const channel::peer* from,
                                                                     std::string_view room_name);
    std::optional<std::int64_t> ban_until_locked(std::int64_t userid) const;
    room_view view_locked(const room& r) const;
    // Membership changes: the user concerned (all their tabs) gets the room's whole member list,
    // every other member only the change (room_member_joined / room_member_left), so a join or
    // leave costs the server one small message per connection, not a list per connection.
    // Returns false, having sent nothing, when the join's fan-out would exceed max_fanout_bytes.
    bool announce_join_locked(const room& r, const user& u);
    void announce_departure_locked(const room& r, std::int64_t userid, std::string_view username,
                                   std::string_view event);
    // Bytes that sending `size` bytes to every connection of `userid` costs.
    std::size_t fanout_to_user_locked(std::int64_t userid, std::size_t size) const;
    void send_to_user_locked(std::int64_t userid, const channel::message_ptr& message);
    void erase_room_locked(std::map<std::string, std::unique_ptr<room>>::iterator it);
    // Takes the user out of the room and tells everyone concerned; erases an empty room.
    void remove_member_locked(const std::string& room_id, std::int64_t userid,
                              std::string_view event);

    store::user_store& users_store_;
    store::ban_store& ban_store_;
    const core::clock& clock_;
    room_settings settings_;
    mutable std::mutex mutex_;
    std::unordered_map<const channel::peer*, std::int64_t> connection_users_;
    std::unordered_map<std::int64_t, std::unique_ptr<user>> users_;
    std::unordered_map<std::string, std::int64_t> online_by_name_;  // lower-case name → userid
    std::map<std::string, std::unique_ptr<room>> rooms_;
    std::size_t public_rooms_ = 0;
    std::size_t private_rooms_ = 0;
    std::unordered_map<std::int64_t, std::size_t> private_owned_;  // owner → private rooms existing
    std::unordered_map<std::int64_t, std::unique_ptr<flood_window>> flood_;
    // Bans in force, mirrored from the store: the frame path never waits for the database.
    mutable std::unordered_map<std::int64_t, ban_view> bans_;
    mutable bool cleanup_due_ = false;  // an expired ban is still in the store
};

}  // namespace secms::chat

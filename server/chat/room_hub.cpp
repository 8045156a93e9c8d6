#include "server/chat/room_hub.hpp"

#include <sodium.h>
#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "server/core/log.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::chat {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr auto flood_window_length = std::chrono::seconds(60);

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

int rank(store::role r) noexcept {
    switch (r) {
        case store::role::user:
            return 0;
        case store::role::moderator:
            return 1;
        case store::role::admin:
            return 2;
    }
    return 0;
}

bool is_moderator(store::role r) noexcept {
    return rank(r) >= 1;
}

core::failure<refusal> refuse(chat_error e, std::int64_t until = 0, std::int64_t retry = 0) {
    return core::fail(refusal{e, until, retry});
}

json::object room_json(const room_ref& r) {
    json::object o;
    o["room"] = r.id;
    if (!r.name.empty()) o["name"] = r.name;
    o["public"] = !r.name.empty();
    return o;
}

}  // namespace

std::size_t max_message_body_bytes(const room_settings& s) noexcept {
    return s.max_message_chars * 4 + envelope_overhead_bytes;
}

std::optional<std::string> normalise_room_name(std::string_view name) {
    if (name.empty() || name.size() > 24) return std::nullopt;
    std::string out = lower(name);
    for (char c : out) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return std::nullopt;
    }
    return out;
}

std::string public_room_id(std::string_view name) {
    static constexpr std::string_view context = "secms public room v1:";
    std::string input(context);
    input.append(name);
    std::uint8_t digest[16];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(), nullptr, 0);
    return core::to_hex(std::span<const std::uint8_t>(digest, sizeof digest));
}

struct room_hub::connection {
    std::weak_ptr<channel::peer> handle;
    std::string remote_address;
};

struct room_hub::user {
    std::int64_t userid = 0;
    std::string username;
    store::role role = store::role::user;
    std::map<const channel::peer*, connection> connections;
    std::set<std::string> rooms;  // ids
};

struct room_hub::room {
    std::string id;
    std::string name;        // empty: private
    std::int64_t owner = 0;  // private rooms
    std::string owner_name;  // private rooms
    std::set<std::int64_t> members;
    std::map<std::int64_t, std::int64_t> invited;  // private rooms: userid → who invited
    // Next sequence per sending connection, shared by message and control frames (reset when
    // the user leaves the room).
    std::unordered_map<const channel::peer*, std::uint64_t> next_sequence;

    room_ref ref() const { return {id, name}; }
    bool is_public() const { return !name.empty(); }
};

struct room_hub::flood_window {
    std::deque<core::steady_time> messages;
    std::deque<core::steady_time> controls;
};

room_hub::room_hub(store::user_store& users, store::ban_store& bans, const core::clock& clock,
                   room_settings settings)
    : users_store_(users), ban_store_(bans), clock_(clock), settings_(settings) {
    auto lobby = std::make_unique<room>();
    lobby->name = std::string(lobby_name);
    lobby->id = public_room_id(lobby->name);
    std::string id = lobby->id;
    rooms_.emplace(std::move(id), std::move(lobby));
    public_rooms_ = 1;
}

room_hub::~room_hub() = default;

core::status<chat_error> room_hub::load_bans() {
    const std::int64_t now = clock_.unix_now();
    if (auto removed = ban_store_.remove_expired(now); !removed) {
        return core::fail(chat_error::unavailable);
    }
    // Every ban in force is cached; the users table bounds how many there can be.
    auto active = ban_store_.active(now, static_cast<std::size_t>(INT64_MAX));
    if (!active) return core::fail(chat_error::unavailable);
    std::lock_guard lock(mutex_);
    bans_.clear();
    for (auto& b : *active) {
        bans_[b.userid] = ban_view{b.userid, b.username, b.until, b.by_username, b.created_at};
    }
    return core::ok;
}

// --- Connections ------------------------------------------------------------------------------

void room_hub::connect(const std::shared_ptr<channel::peer>& p, const channel::member_info& info) {
    std::lock_guard lock(mutex_);
    auto& u = users_[info.userid];
    if (!u) {
        u = std::make_unique<user>();
        u->userid = info.userid;
        online_by_name_[lower(info.username)] = info.userid;
    }
    u->username = info.username;
    u->role = info.role;
    u->connections[p.get()] = connection{p, info.remote_address};
    connection_users_[p.get()] = info.userid;
}

void room_hub::disconnect(const channel::peer* p) {
    std::lock_guard lock(mutex_);
    auto it = connection_users_.find(p);
    if (it == connection_users_.end()) return;
    const std::int64_t userid = it->second;
    connection_users_.erase(it);
    auto uit = users_.find(userid);
    if (uit == users_.end()) return;
    user& u = *uit->second;
    u.connections.erase(p);
    for (const auto& id : u.rooms) {
        if (auto r = rooms_.find(id); r != rooms_.end()) r->second->next_sequence.erase(p);
    }
    if (!u.connections.empty()) return;
    for (const auto& id : std::vector<std::string>(u.rooms.begin(), u.rooms.end())) {
        remove_member_locked(id, userid, "left");
    }
    online_by_name_.erase(lower(u.username));
    users_.erase(uit);
}

void room_hub::set_role(std::int64_t userid, store::role role) {
    std::lock_guard lock(mutex_);
    if (auto u = users_.find(userid); u != users_.end()) u->second->role = role;
}

room_hub::user* room_hub::user_of_locked(const channel::peer* p) {
    auto it = connection_users_.find(p);
    if (it == connection_users_.end()) return nullptr;
    auto u = users_.find(it->second);
    return u == users_.end() ? nullptr : u->second.get();
}

const room_hub::user* room_hub::user_of_locked(const channel::peer* p) const {
    return const_cast<room_hub*>(this)->user_of_locked(p);
}

std::optional<room_hub::user_ref> room_hub::online_user_locked(std::string_view username) const {
    auto it = online_by_name_.find(lower(username));
    if (it == online_by_name_.end()) return std::nullopt;
    const user& u = *users_.at(it->second);
    return user_ref{u.userid, u.username, u.role};
}

chat_result<room_hub::user_ref> room_hub::resolve_user(std::string_view username) const {
    if (username.empty() || username.size() > 64) return refuse(chat_error::user_not_found);
    {
        std::lock_guard lock(mutex_);
        if (auto online = online_user_locked(username)) return *online;
    }
    auto found = users_store_.find_by_name(username);
    if (!found) {
        return refuse(found.error() == store::store_error::not_found ? chat_error::user_not_found
                                                                     : chat_error::unavailable);
    }
    return user_ref{found->userid, found->username, found->role};
}

chat_result<std::string> room_hub::room_id_of(std::string_view room_name) const {
    if (is_room_id(room_name)) return std::string(room_name);
    auto name = normalise_room_name(room_name);
    if (!name) return refuse(chat_error::bad_room_name);
    return public_room_id(*name);
}

std::optional<std::int64_t> room_hub::ban_until_locked(std::int64_t userid) const {
    auto it = bans_.find(userid);
    if (it == bans_.end()) return std::nullopt;
    if (it->second.until <= clock_.unix_now()) {
        bans_.erase(it);  // over; the store forgets it at the next sweep
        cleanup_due_ = true;
        return std::nullopt;
    }
    return it->second.until;
}

// --- Events -----------------------------------------------------------------------------------

room_view room_hub::view_locked(const room& r) const {
    room_view v;
    v.room = r.ref();
    v.owner = r.owner_name;
    // Members are online users, so their roles are those of their latest login (see connect).
    for (auto id : r.members) {
        auto u = users_.find(id);
        if (u == users_.end()) continue;
        v.members.push_back(u->second->username);
        if (is_moderator(u->second->role)) v.moderators.push_back(u->second->username);
    }
    std::sort(v.members.begin(), v.members.end());
    std::sort(v.moderators.begin(), v.moderators.end());
    return v;
}

void room_hub::send_to_user_locked(std::int64_t userid, const channel::message_ptr& message) {
    auto u = users_.find(userid);
    if (u == users_.end()) return;
    for (auto& [p, c] : u->second->connections) {
        if (auto alive = c.handle.lock()) alive->send_text(message);
    }
}

std::size_t room_hub::fanout_to_user_locked(std::int64_t userid, std::size_t size) const {
    auto u = users_.find(userid);
    return u == users_.end() ? 0 : size * u->second->connections.size();
}

namespace {

json::object members_json(const room_view& v, std::string_view event, std::string_view user) {
    json::object msg = room_json(v.room);
    msg["type"] = "room_members";
    json::array members;
    for (auto& m : v.members) members.emplace_back(m);
    msg["members"] = std::move(members);
    json::array moderators;
    for (auto& m : v.moderators) moderators.emplace_back(m);
    msg["moderators"] = std::move(moderators);
    msg["event"] = event;
    msg["user"] = user;
    return msg;
}

}  // namespace

// Sending only queues on each peer's strand, so doing it under the lock keeps every member's view
// of a room's changes in one order.
bool room_hub::announce_join_locked(const room& r, const user& u) {
    auto whole = std::make_shared<const std::string>(
        json::serialize(members_json(view_locked(r), "joined", u.username)));
    json::object delta = room_json(r.ref());
    delta["type"] = "room_member_joined";
    delta["user"] = u.username;
    delta["moderator"] = is_moderator(u.role);
    auto change = std::make_shared<const std::string>(json::serialize(delta));
    // The joiner's tabs get the list twice (room_members here, room_joined as the answer).
    std::size_t bytes = 2 * fanout_to_user_locked(u.userid, whole->size());
    for (auto id : r.members) {
        if (id != u.userid) bytes += fanout_to_user_locked(id, change->size());
    }
    if (bytes > settings_.max_fanout_bytes) return false;
    send_to_user_locked(u.userid, whole);
    for (auto id : r.members) {
        if (id != u.userid) send_to_user_locked(id, change);
    }
    return true;
}

void room_hub::announce_departure_locked(const room& r, std::int64_t userid,
                                         std::string_view username, std::string_view event) {
    json::object delta = room_json(r.ref());
    delta["type"] = "room_member_left";
    delta["user"] = username;
    delta["event"] = event;
    auto change = std::make_shared<const std::string>(json::serialize(delta));
    for (auto id : r.members) send_to_user_locked(id, change);
    send_to_user_locked(userid, change);  // the one who is out, on all their tabs
}

void room_hub::erase_room_locked(std::map<std::string, std::unique_ptr<room>>::iterator it) {
    const room& r = *it->second;
    if (r.is_public()) {
        --public_rooms_;
    } else {
        --private_rooms_;
        if (auto owned = private_owned_.find(r.owner); owned != private_owned_.end()) {
            if (--owned->second == 0) private_owned_.erase(owned);
        }
    }
    rooms_.erase(it);
}

void room_hub::remove_member_locked(const std::string& room_id, std::int64_t userid,
                                    std::string_view event) {
    auto rit = rooms_.find(room_id);
    if (rit == rooms_.end()) return;
    room& r = *rit->second;
    if (r.members.erase(userid) == 0) return;
    std::string username;
    if (auto u = users_.find(userid); u != users_.end()) {
        u->second->rooms.erase(room_id);
        username = u->second->username;
        for (auto& [p, c] : u->second->connections) r.next_sequence.erase(p);
    }
    announce_departure_locked(r, userid, username, event);
    // Empty rooms vanish, invitations with them; the lobby stays.
    if (r.members.empty() && r.name != lobby_name) erase_room_locked(rit);
}

// --- Rooms ------------------------------------------------------------------------------------

chat_result<room_view> room_hub::join(const channel::peer* from, std::string_view room_name) {
    std::lock_guard lock(mutex_);
    user* u = user_of_locked(from);
    if (u == nullptr) return refuse(chat_error::not_a_member);
    if (auto until = ban_until_locked(u->userid)) return refuse(chat_error::banned, *until);

    room* r = nullptr;
    bool made_here = false;
    if (room_name.empty()) {
        // A new private room, owned by the caller.
        if (u->rooms.size() >= settings_.max_rooms_per_user)
            return refuse(chat_error::too_many_joined);
        auto owned = private_owned_.find(u->userid);
        if (owned != private_owned_.end() && owned->second >= settings_.max_private_rooms_per_user)
            return refuse(chat_error::too_many_private_rooms);
        if (private_rooms_ >= settings_.max_private_rooms)
            return refuse(chat_error::too_many_rooms);
        auto made = std::make_unique<room>();
        made->id = core::to_hex(core::random_secret(16).view());
        made->owner = u->userid;
        made->owner_name = u->username;
        r = made.get();
        std::string id = made->id;
        rooms_.emplace(std::move(id), std::move(made));
        ++private_rooms_;
        ++private_owned_[u->userid];
        made_here = true;
    } else {
        auto id = room_id_of(room_name);
        if (!id) return core::fail(id.error());
        auto it = rooms_.find(*id);
        if (it != rooms_.end()) {
            r = it->second.get();
            if (r->members.contains(u->userid)) return view_locked(*r);
            if (!r->is_public() && r->owner != u->userid && !r->invited.contains(u->userid))
                return refuse(chat_error::not_invited);
            if (r->members.size() >= settings_.max_members_per_room)
                return refuse(chat_error::room_full);
            if (u->rooms.size() >= settings_.max_rooms_per_user)
                return refuse(chat_error::too_many_joined);
        } else {
            // Only a public room is made by naming it; an unknown id is no room.
            if (is_room_id(room_name)) return refuse(chat_error::room_not_found);
            if (public_rooms_ >= settings_.max_rooms) return refuse(chat_error::too_many_rooms);
            if (u->rooms.size() >= settings_.max_rooms_per_user)
                return refuse(chat_error::too_many_joined);
            auto made = std::make_unique<room>();
            made->name = *normalise_room_name(room_name);
            made->id = *id;
            r = made.get();
            rooms_.emplace(*id, std::move(made));
            ++public_rooms_;
            made_here = true;
        }
    }
    r->members.insert(u->userid);
    u->rooms.insert(r->id);
    if (!announce_join_locked(*r, *u)) {
        // Nothing was sent: undo the join as if it had not been asked.
        r->members.erase(u->userid);
        u->rooms.erase(r->id);
        if (made_here) erase_room_locked(rooms_.find(r->id));
        return refuse(chat_error::fanout_limited);
    }
    return view_locked(*r);
}

chat_result<room_hub::room*> room_hub::find_room_locked(std::string_view room_name) const {
    auto id = room_id_of(room_name);
    if (!id) return core::fail(id.error());
    auto it = rooms_.find(*id);
    if (it == rooms_.end()) return refuse(chat_error::room_not_found);
    return it->second.get();
}

chat_result<std::pair<room_hub::user*, room_hub::room*>> room_hub::private_room_request_locked(
    const channel::peer* from, std::string_view room_name) {
    user* u = user_of_locked(from);
    if (u == nullptr) return refuse(chat_error::not_a_member);
    auto found = find_room_locked(room_name);
    if (!found) return core::fail(found.error());
    if ((*found)->is_public()) return refuse(chat_error::not_private);
    return std::pair{u, *found};
}

chat_result<room_ref> room_hub::invite(const channel::peer* from, std::string_view room_name,
                                       std::string_view username) {
    auto target = resolve_user(username);
    if (!target) return core::fail(target.error());
    std::lock_guard lock(mutex_);
    auto request = private_room_request_locked(from, room_name);
    if (!request) return core::fail(request.error());
    auto [u, rp] = *request;
    room& r = *rp;
    if (!r.members.contains(u->userid)) return refuse(chat_error::not_a_member);
    json::object msg = room_json(r.ref());
    msg["type"] = "room_invitation";
    msg["by"] = u->username;
    auto text = std::make_shared<const std::string>(json::serialize(msg));
    if (fanout_to_user_locked(target->userid, text->size()) > settings_.max_fanout_bytes)
        return refuse(chat_error::fanout_limited);
    if (r.owner != target->userid && !r.invited.contains(target->userid)) {
        if (r.invited.size() >= settings_.max_members_per_room)
            return refuse(chat_error::room_full);
        r.invited[target->userid] = u->userid;
    }
    send_to_user_locked(target->userid, text);
    return r.ref();
}

chat_result<room_ref> room_hub::uninvite(const channel::peer* from, std::string_view room_name,
                                         std::string_view username) {
    auto target = resolve_user(username);
    if (!target) return core::fail(target.error());
    std::lock_guard lock(mutex_);
    auto request = private_room_request_locked(from, room_name);
    if (!request) return core::fail(request.error());
    auto [u, rp] = *request;
    room& r = *rp;
    auto inv = r.invited.find(target->userid);
    if (inv == r.invited.end()) return refuse(chat_error::not_invited);
    if (u->userid != r.owner && u->userid != inv->second && !is_moderator(u->role))
        return refuse(chat_error::forbidden);
    r.invited.erase(inv);
    room_ref ref = r.ref();
    remove_member_locked(ref.id, target->userid, "removed");  // may erase the room
    return ref;
}

chat_result<room_ref> room_hub::leave(const channel::peer* from, std::string_view room_name) {
    std::lock_guard lock(mutex_);
    user* u = user_of_locked(from);
    if (u == nullptr) return refuse(chat_error::not_a_member);
    auto found = find_room_locked(room_name);
    if (!found) return core::fail(found.error());
    if (!(*found)->members.contains(u->userid)) return refuse(chat_error::not_a_member);
    room_ref ref = (*found)->ref();
    remove_member_locked(ref.id, u->userid, "left");
    return ref;
}

std::vector<room_summary> room_hub::list() const {
    std::lock_guard lock(mutex_);
    std::vector<room_summary> out;
    for (const auto& [id, r] : rooms_) {
        if (r->is_public()) out.push_back({r->ref(), r->members.size()});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.room.name < b.room.name; });
    if (out.size() > settings_.max_listed) out.resize(settings_.max_listed);
    return out;
}

chat_result<room_view> room_hub::who(const channel::peer* from, std::string_view room_name) const {
    std::lock_guard lock(mutex_);
    const user* u = user_of_locked(from);
    if (u == nullptr) return refuse(chat_error::not_a_member);
    auto found = find_room_locked(room_name);
    if (!found) return core::fail(found.error());
    const room& r = **found;
    if (!r.is_public() && !r.members.contains(u->userid) && !is_moderator(u->role))
        return refuse(chat_error::not_a_member);
    return view_locked(r);
}

whereis_view room_hub::whereis(std::string_view username) const {
    std::lock_guard lock(mutex_);
    whereis_view v;
    v.username = std::string(username);
    auto it = online_by_name_.find(lower(username));
    if (it == online_by_name_.end()) return v;
    const user& u = *users_.at(it->second);
    v.username = u.username;
    v.online = true;
    for (const auto& id : u.rooms) {
        auto r = rooms_.find(id);
        if (r != rooms_.end() && r->second->is_public()) v.rooms.push_back(r->second->ref());
    }
    std::sort(v.rooms.begin(), v.rooms.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return v;
}

// --- Moderation -------------------------------------------------------------------------------

chat_result<ban_view> room_hub::kick(const channel::peer* from, std::string_view username,
                                     std::int64_t minutes) {
    user_ref actor;
    {
        std::lock_guard lock(mutex_);
        const user* u = user_of_locked(from);
        if (u == nullptr || !is_moderator(u->role)) return refuse(chat_error::forbidden);
        actor = {u->userid, u->username, u->role};
    }
    if (minutes < 1 || minutes > max_ban_minutes) return refuse(chat_error::bad_duration);
    auto target = resolve_user(username);
    if (!target) return core::fail(target.error());
    if (rank(target->role) >= rank(actor.role)) return refuse(chat_error::forbidden);

    const std::int64_t now = clock_.unix_now();
    store::ban_record record{target->userid, now + minutes * 60, actor.userid, now, {}, {}};
    if (auto saved = ban_store_.put(record); !saved) {
        return refuse(saved.error() == store::store_error::not_found ? chat_error::user_not_found
                                                                     : chat_error::unavailable);
    }
    spdlog::info("chat: userid={} banned userid={} for {} min", actor.userid, target->userid,
                 minutes);
    ban_view ban{target->userid, target->username, record.until, actor.username, now};
    std::lock_guard lock(mutex_);
    bans_[target->userid] = ban;
    if (auto u = users_.find(target->userid); u != users_.end()) {
        for (const auto& id :
             std::vector<std::string>(u->second->rooms.begin(), u->second->rooms.end())) {
            remove_member_locked(id, target->userid, "kicked");
        }
        json::object msg;
        msg["type"] = "room_banned";
        msg["until"] = ban.until;
        msg["by"] = ban.by;
        send_to_user_locked(target->userid,
                            std::make_shared<const std::string>(json::serialize(msg)));
    }
    return ban;
}

chat_result<std::vector<ban_view>> room_hub::bans(const channel::peer* from) const {
    std::lock_guard lock(mutex_);
    const user* u = user_of_locked(from);
    if (u == nullptr || !is_moderator(u->role)) return refuse(chat_error::forbidden);
    const std::int64_t now = clock_.unix_now();
    std::vector<ban_view> out;
    for (const auto& [id, b] : bans_) {
        if (b.until > now) out.push_back(b);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.until != b.until ? a.until < b.until : a.userid < b.userid;
    });
    if (out.size() > settings_.max_listed) out.resize(settings_.max_listed);
    return out;
}

chat_result<ban_view> room_hub::unban(const channel::peer* from, std::string_view username) {
    std::optional<ban_view> cached;
    std::int64_t actor = 0;
    {
        std::lock_guard lock(mutex_);
        const user* u = user_of_locked(from);
        if (u == nullptr || !is_moderator(u->role)) return refuse(chat_error::forbidden);
        actor = u->userid;
        const std::string key = lower(username);
        for (const auto& [id, b] : bans_) {
            if (lower(b.username) == key) cached = b;
        }
    }
    std::int64_t userid = 0;
    if (cached) {
        userid = cached->userid;
    } else {
        auto target = resolve_user(username);
        if (!target) return core::fail(target.error());
        userid = target->userid;
    }
    auto removed = ban_store_.remove(userid);
    if (!removed && removed.error() != store::store_error::not_found)
        return refuse(chat_error::unavailable);
    std::lock_guard lock(mutex_);
    bool was_banned = bans_.erase(userid) > 0;
    if (!was_banned && !removed) return refuse(chat_error::not_banned);
    spdlog::info("chat: userid={} lifted the ban of userid={}", actor, userid);
    if (cached) return *cached;
    return ban_view{userid, std::string(username), 0, {}, 0};
}

chat_result<whois_view> room_hub::whois(const channel::peer* from, std::string_view username) {
    {
        std::lock_guard lock(mutex_);
        const user* u = user_of_locked(from);
        if (u == nullptr || !is_moderator(u->role)) return refuse(chat_error::forbidden);
    }
    auto target = resolve_user(username);
    if (!target) return core::fail(target.error());
    std::lock_guard lock(mutex_);
    whois_view v;
    v.userid = target->userid;
    v.username = target->username;
    v.role = target->role;
    if (auto until = ban_until_locked(target->userid)) v.banned_until = *until;
    auto u = users_.find(target->userid);
    if (u == users_.end()) return v;
    v.online = true;
    for (const auto& [p, c] : u->second->connections) v.addresses.push_back(c.remote_address);
    for (const auto& id : u->second->rooms) {
        if (auto r = rooms_.find(id); r != rooms_.end()) v.rooms.push_back(r->second->ref());
    }
    return v;
}

// --- Frames -----------------------------------------------------------------------------------

chat_result<delivery> room_hub::relay(const channel::peer* from,
                                      const channel::message_ptr& frame) {
    auto header = parse_room_header(*frame);
    if (!header) return refuse(chat_error::bad_frame);
    std::lock_guard lock(mutex_);
    user* u = user_of_locked(from);
    if (u == nullptr) return refuse(chat_error::not_a_member);
    auto it = rooms_.find(std::string(header->room_id));
    if (it == rooms_.end()) return refuse(chat_error::room_not_found);
    room& r = *it->second;
    if (!r.members.contains(u->userid)) return refuse(chat_error::not_a_member);
    if (auto until = ban_until_locked(u->userid)) return refuse(chat_error::banned, *until);

    const bool is_message = header->type == room_frame_type::message;
    const std::size_t limit =
        is_message ? max_message_body_bytes(settings_) : max_control_body_bytes;
    if (header->body_size > limit) return refuse(chat_error::message_too_long);

    std::uint64_t& expected = r.next_sequence[from];
    if (header->sequence != expected) return refuse(chat_error::out_of_order);

    // Sliding window over the last minute, per user across rooms and tabs.
    auto& window = flood_[u->userid];
    if (!window) window = std::make_unique<flood_window>();
    auto& times = is_message ? window->messages : window->controls;
    const std::size_t cap = is_message ? settings_.flood_per_minute : settings_.control_per_minute;
    const auto now = clock_.now();
    while (!times.empty() && now - times.front() >= flood_window_length) times.pop_front();
    if (times.size() >= cap) {
        auto wait =
            std::chrono::ceil<std::chrono::seconds>(times.front() + flood_window_length - now);
        return refuse(chat_error::flood_limited, 0, std::max<std::int64_t>(1, wait.count()));
    }
    times.push_back(now);
    ++expected;

    delivery out;
    out.type = header->type;
    out.room_id = r.id;
    out.sequence = header->sequence;
    for (auto member : r.members) {
        auto m = users_.find(member);
        if (m == users_.end()) continue;
        for (auto& [p, c] : m->second->connections) {
            if (p == from) continue;
            auto alive = c.handle.lock();
            if (!alive) continue;
            alive->send_binary(frame);
            ++out.receivers;
            if (!out.congested && alive->congested()) out.congested = alive;
        }
    }
    return out;
}

void room_hub::sweep() {
    const std::int64_t now_unix = clock_.unix_now();
    bool cleanup = false;
    {
        std::lock_guard lock(mutex_);
        if (std::erase_if(bans_, [&](const auto& e) { return e.second.until <= now_unix; }) > 0)
            cleanup_due_ = true;
        cleanup = std::exchange(cleanup_due_, false);
        const auto now = clock_.now();
        std::erase_if(flood_, [&](const auto& e) {
            auto old = [&](const std::deque<core::steady_time>& d) {
                return d.empty() || now - d.back() >= flood_window_length;
            };
            return old(e.second->messages) && old(e.second->controls);
        });
    }
    // Bans that ended are deleted from the store too (those the cache dropped on use as well).
    if (!cleanup) return;
    if (auto removed = ban_store_.remove_expired(now_unix); !removed) {
        spdlog::warn("chat: expired bans could not be deleted from the database");
    }
}

std::size_t room_hub::room_count() const {
    std::lock_guard lock(mutex_);
    return rooms_.size();
}

std::size_t room_hub::private_room_count() const {
    std::lock_guard lock(mutex_);
    return private_rooms_;
}

}  // namespace secms::chat

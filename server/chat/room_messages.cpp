#include "server/chat/room_messages.hpp"

#include <boost/json.hpp>

#include <optional>

namespace secms::chat {

namespace json = boost::json;

namespace {

void reply(const std::shared_ptr<channel::peer>& to, const json::object& msg) {
    to->send_text(std::make_shared<const std::string>(json::serialize(msg)));
}

void reply_refusal(const std::shared_ptr<channel::peer>& to, const refusal& r,
                   std::string_view room = {}) {
    to->send_text(std::make_shared<const std::string>(error_message(r, room)));
}

// A string field, bounded: request strings are names and ids, never long.
std::optional<std::string_view> string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string() || v->as_string().size() > 256) return std::nullopt;
    return std::string_view(v->as_string());
}

json::object room_fields(const room_ref& r) {
    json::object o;
    o["room"] = r.id;
    if (!r.name.empty()) o["name"] = r.name;
    o["public"] = !r.name.empty();
    return o;
}

json::object view_message(std::string_view type, const room_view& v) {
    json::object o = room_fields(v.room);
    o["type"] = type;
    if (!v.owner.empty()) o["owner"] = v.owner;
    json::array members;
    for (const auto& m : v.members) members.emplace_back(m);
    o["members"] = std::move(members);
    json::array moderators;
    for (const auto& m : v.moderators) moderators.emplace_back(m);
    o["moderators"] = std::move(moderators);
    return o;
}

json::array rooms_array(const std::vector<room_ref>& rooms) {
    json::array out;
    for (const auto& r : rooms) {
        json::object o;
        o["room"] = r.id;
        if (!r.name.empty()) o["name"] = r.name;
        out.push_back(std::move(o));
    }
    return out;
}

json::object ban_json(const ban_view& b) {
    json::object o;
    o["user"] = b.username;
    o["userid"] = b.userid;
    o["until"] = b.until;
    if (!b.by.empty()) o["by"] = b.by;
    o["created_at"] = b.created_at;
    return o;
}

}  // namespace

bool is_room_message(std::string_view type) noexcept {
    return type.starts_with("room_") || type.starts_with("mod_") || type == "user_whereis";
}

std::string error_message(const refusal& r, std::string_view room) {
    json::object error;
    error["code"] = code(r.error);
    error["message"] = message(r.error);
    if (r.error == chat_error::banned) error["until"] = r.until;
    if (r.error == chat_error::flood_limited) error["retry_after"] = r.retry_after;
    json::object msg;
    msg["type"] = "error";
    msg["error"] = std::move(error);
    if (!room.empty()) msg["room"] = room;
    return json::serialize(msg);
}

std::string sent_message(const delivery& d) {
    json::object msg;
    msg["type"] = "room_sent";
    msg["room"] = d.room_id;
    msg["sequence"] = d.sequence;
    if (d.type == room_frame_type::control) msg["control"] = true;
    return json::serialize(msg);
}

void handle_room_message(room_hub& hub, const std::shared_ptr<channel::peer>& from,
                         std::string_view type, const json::object& msg) {
    const refusal malformed{chat_error::malformed};
    const channel::peer* self = from.get();
    auto room = string_field(msg, "room");
    auto user = string_field(msg, "user");

    if (type == "room_join") {
        // No room, or an empty one: a new private room.
        if (msg.contains("room") && !room) return reply_refusal(from, malformed);
        auto joined = hub.join(self, room.value_or(""));
        if (!joined) return reply_refusal(from, joined.error(), room.value_or(""));
        // The limits the server enforces, so the client's counter and flood control match them.
        json::object joined_msg = view_message("room_joined", *joined);
        json::object limits;
        limits["flood_per_minute"] = hub.settings().flood_per_minute;
        limits["control_per_minute"] = hub.settings().control_per_minute;
        limits["max_message_chars"] = hub.settings().max_message_chars;
        joined_msg["limits"] = std::move(limits);
        return reply(from, joined_msg);
    }
    if (type == "room_invite" || type == "room_uninvite") {
        if (!room || !user) return reply_refusal(from, malformed);
        bool invite = type == "room_invite";
        auto done = invite ? hub.invite(self, *room, *user) : hub.uninvite(self, *room, *user);
        if (!done) return reply_refusal(from, done.error(), *room);
        json::object o = room_fields(*done);
        o["type"] = invite ? "room_invited" : "room_uninvited";
        o["user"] = *user;
        return reply(from, o);
    }
    if (type == "room_leave") {
        if (!room) return reply_refusal(from, malformed);
        auto left = hub.leave(self, *room);
        if (!left) return reply_refusal(from, left.error(), *room);
        json::object o = room_fields(*left);
        o["type"] = "room_left";
        return reply(from, o);
    }
    if (type == "room_list") {
        json::array rooms;
        for (const auto& s : hub.list()) {
            json::object o;
            o["room"] = s.room.id;
            o["name"] = s.room.name;
            o["members"] = s.members;
            rooms.push_back(std::move(o));
        }
        json::object o;
        o["type"] = "room_list";
        o["rooms"] = std::move(rooms);
        return reply(from, o);
    }
    if (type == "room_who") {
        if (!room) return reply_refusal(from, malformed);
        auto seen = hub.who(self, *room);
        if (!seen) return reply_refusal(from, seen.error(), *room);
        return reply(from, view_message("room_who", *seen));
    }
    if (type == "user_whereis") {
        if (!user) return reply_refusal(from, malformed);
        auto where = hub.whereis(*user);
        json::object o;
        o["type"] = "user_whereis";
        o["user"] = where.username;
        o["online"] = where.online;
        o["rooms"] = rooms_array(where.rooms);
        return reply(from, o);
    }
    if (type == "mod_kick") {
        if (!user) return reply_refusal(from, malformed);
        std::int64_t minutes = default_ban_minutes;
        if (auto* m = msg.if_contains("minutes")) {
            if (!m->is_int64()) return reply_refusal(from, refusal{chat_error::bad_duration});
            minutes = m->as_int64();
        }
        auto ban = hub.kick(self, *user, minutes);
        if (!ban) return reply_refusal(from, ban.error());
        json::object o = ban_json(*ban);
        o["type"] = "mod_kicked";
        return reply(from, o);
    }
    if (type == "mod_bans") {
        auto list = hub.bans(self);
        if (!list) return reply_refusal(from, list.error());
        json::array bans;
        for (const auto& b : *list) bans.push_back(ban_json(b));
        json::object o;
        o["type"] = "mod_bans";
        o["bans"] = std::move(bans);
        return reply(from, o);
    }
    if (type == "mod_unban") {
        if (!user) return reply_refusal(from, malformed);
        auto lifted = hub.unban(self, *user);
        if (!lifted) return reply_refusal(from, lifted.error());
        json::object o;
        o["type"] = "mod_unbanned";
        o["user"] = lifted->username;
        return reply(from, o);
    }
    if (type == "mod_whois") {
        if (!user) return reply_refusal(from, malformed);
        auto who = hub.whois(self, *user);
        if (!who) return reply_refusal(from, who.error());
        json::object o;
        o["type"] = "mod_whois";
        o["user"] = who->username;
        o["userid"] = who->userid;
        o["role"] = store::to_string(who->role);
        o["online"] = who->online;
        json::array addresses;
        for (const auto& a : who->addresses) addresses.emplace_back(a);
        o["addresses"] = std::move(addresses);
        o["rooms"] = rooms_array(who->rooms);
        if (who->banned_until != 0) o["banned_until"] = who->banned_until;
        return reply(from, o);
    }
    json::object error;
    error["code"] = "unknown_type";
    error["message"] = "This message type is not known to the server.";
    json::object o;
    o["type"] = "error";
    o["error"] = std::move(error);
    reply(from, o);
}

}  // namespace secms::chat

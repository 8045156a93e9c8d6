// The chat rooms' JSON control messages (docs/api.md, "Chat rooms"): room_*, user_whereis and
// mod_*. Each request is answered to the sender; membership changes go to the room's members.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "server/channel/peer.hpp"
#include "server/chat/room_hub.hpp"

namespace secms::chat {

// Whether a control-message type belongs to the chat rooms.
bool is_room_message(std::string_view type) noexcept;

// Handles one room message; may reach the database (run it on the work pool).
void handle_room_message(room_hub& hub, const std::shared_ptr<channel::peer>& from,
                         std::string_view type, const boost::json::object& message);

// {"type":"error","error":{"code","message"[,"until"][,"retry_after"]}[,"room"]}
std::string error_message(const refusal& r, std::string_view room = {});

// {"type":"room_sent","room":…,"sequence":n[,"control":true]}: a room message (or, with
// "control", a room control frame) was accepted and fanned out.
std::string sent_message(const delivery& d);

}  // namespace secms::chat

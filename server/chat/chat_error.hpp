// Expected failures of the chat rooms: each is sent to the client as
// {"type":"error","error":{"code":…,"message":…[,"until"|"retry_after"]},"room"?}.
#pragma once

#include <cstdint>
#include <string_view>

namespace secms::chat {

enum class chat_error {
    malformed,         // a field is missing or has the wrong type
    bad_room_name,     // a public room name is not 1–24 of a–z 0–9 _ - (see docs/api.md)
    room_not_found,    // no such room
    not_a_member,      // the request or frame needs membership of the room
    not_invited,       // a private room is joined by invitation only
    not_private,       // invitations are for private rooms
    banned,            // the user is banned from the rooms (until …)
    forbidden,         // the account's role does not allow it
    user_not_found,    // no such user
    bad_duration,      // a ban of 1 minute to 7 days
    too_many_rooms,    // the server's room limit is reached
    room_full,         // the room's member limit is reached
    too_many_joined,   // the user is in as many rooms as allowed
    flood_limited,     // too many messages in the last minute (retry after …)
    message_too_long,  // the frame's body is over the size derived from the character limit
    bad_frame,         // a room frame's header is malformed
    out_of_order,      // a room frame's sequence is not the sender's next one
    not_banned,        // unban of a user who is not banned
    unavailable,       // the ban could not be saved or read
    too_many_private_rooms,  // the user owns as many private rooms as allowed
    fanout_limited,          // the request would make the server send more than it allows at once
};

std::string_view code(chat_error e) noexcept;
std::string_view message(chat_error e) noexcept;

// A refusal with what the client needs to act on it.
struct refusal {
    chat_error error = chat_error::malformed;
    std::int64_t until = 0;        // banned: Unix seconds the ban ends
    std::int64_t retry_after = 0;  // flood_limited: seconds until a message is accepted again
};

}  // namespace secms::chat

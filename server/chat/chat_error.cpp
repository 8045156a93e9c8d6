#include "server/chat/chat_error.hpp"

namespace secms::chat {

std::string_view code(chat_error e) noexcept {
    switch (e) {
        case chat_error::malformed:
            return "malformed";
        case chat_error::bad_room_name:
            return "bad_room_name";
        case chat_error::room_not_found:
            return "room_not_found";
        case chat_error::not_a_member:
            return "not_a_member";
        case chat_error::not_invited:
            return "not_invited";
        case chat_error::not_private:
            return "not_private";
        case chat_error::banned:
            return "banned";
        case chat_error::forbidden:
            return "forbidden";
        case chat_error::user_not_found:
            return "user_not_found";
        case chat_error::bad_duration:
            return "bad_duration";
        case chat_error::too_many_rooms:
            return "too_many_rooms";
        case chat_error::room_full:
            return "room_full";
        case chat_error::too_many_joined:
            return "too_many_joined";
        case chat_error::flood_limited:
            return "flood_limited";
        case chat_error::message_too_long:
            return "message_too_long";
        case chat_error::bad_frame:
            return "bad_frame";
        case chat_error::out_of_order:
            return "out_of_order";
        case chat_error::not_banned:
            return "not_banned";
        case chat_error::unavailable:
            return "unavailable";
        case chat_error::too_many_private_rooms:
            return "too_many_private_rooms";
        case chat_error::fanout_limited:
            return "fanout_limited";
    }
    return "malformed";
}

std::string_view message(chat_error e) noexcept {
    switch (e) {
        case chat_error::malformed:
            return "The message lacks a field its type needs, or a field has the wrong type.";
        case chat_error::bad_room_name:
            return "Room names are 1 to 24 characters: letters a-z, digits, '_' and '-'.";
        case chat_error::room_not_found:
            return "No such room.";
        case chat_error::not_a_member:
            return "You are not in that room.";
        case chat_error::not_invited:
            return "That room is private: you need an invitation.";
        case chat_error::not_private:
            return "Invitations are for private rooms; anyone may join a public room.";
        case chat_error::banned:
            return "You are banned from the chat rooms for now.";
        case chat_error::forbidden:
            return "Your account's role does not allow this.";
        case chat_error::user_not_found:
            return "No such user.";
        case chat_error::bad_duration:
            return "A ban lasts from 1 minute to 7 days (10080 minutes).";
        case chat_error::too_many_rooms:
            return "The server has as many rooms as it allows.";
        case chat_error::room_full:
            return "The room is full.";
        case chat_error::too_many_joined:
            return "You are in as many rooms as allowed; leave one first.";
        case chat_error::flood_limited:
            return "Too many messages in the last minute; wait a little.";
        case chat_error::message_too_long:
            return "The message is too long.";
        case chat_error::bad_frame:
            return "The room frame header is malformed.";
        case chat_error::out_of_order:
            return "Room frames must be numbered 0, 1, 2, … per sender and room, without gaps.";
        case chat_error::not_banned:
            return "That user is not banned.";
        case chat_error::unavailable:
            return "The ban could not be saved or read; try again.";
        case chat_error::too_many_private_rooms:
            return "You have made as many private rooms as allowed; leave one that is empty of "
                   "others, or wait until one ends.";
        case chat_error::fanout_limited:
            return "This request would send the server's members more than it allows at once.";
    }
    return "Malformed message.";
}

}  // namespace secms::chat

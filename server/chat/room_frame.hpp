// The header of a binary room frame (docs/api.md, "Chat rooms"). Same layout as the channel's
// relay frames, with a room id where the session id is; the body is ciphertext under the
// sender's sender key (or a signed control record) that the server never interprets.
//
//   u8  frame_type   3 = room message, 4 = room control (deletion request, sender-key notice)
//   32  room_id      ASCII, 32 lower-case hex characters
//   u64 sequence     big-endian; per sending connection and room: 0, 1, 2, … with no gap
//   …   body         1 byte or more
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace secms::chat {

enum class room_frame_type : std::uint8_t { message = 3, control = 4 };

inline constexpr std::size_t room_id_length = 32;
inline constexpr std::size_t room_header_length = 1 + room_id_length + 8;

struct room_header {
    room_frame_type type = room_frame_type::message;
    std::string_view room_id;
    std::uint64_t sequence = 0;
    std::size_t body_size = 0;
};

// Whether `id` is 32 lower-case hex characters.
bool is_room_id(std::string_view id) noexcept;

// Parses the header; nullopt when the frame is too short, has another type, a malformed room id,
// or no body.
std::optional<room_header> parse_room_header(std::string_view frame);

// Builds a frame (tests and clients).
std::string make_room_frame(room_frame_type type, std::string_view room_id, std::uint64_t sequence,
                            std::string_view body);

}  // namespace secms::chat

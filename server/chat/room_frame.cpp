#include "server/chat/room_frame.hpp"

namespace secms::chat {

bool is_room_id(std::string_view id) noexcept {
    if (id.size() != room_id_length) return false;
    for (char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::optional<room_header> parse_room_header(std::string_view frame) {
    if (frame.size() <= room_header_length) return std::nullopt;
    auto type = static_cast<std::uint8_t>(frame[0]);
    if (type != static_cast<std::uint8_t>(room_frame_type::message) &&
        type != static_cast<std::uint8_t>(room_frame_type::control)) {
        return std::nullopt;
    }
    std::string_view id = frame.substr(1, room_id_length);
    if (!is_room_id(id)) return std::nullopt;
    std::uint64_t sequence = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        sequence = (sequence << 8) | static_cast<std::uint8_t>(frame[1 + room_id_length + i]);
    }
    return room_header{static_cast<room_frame_type>(type), id, sequence,
                       frame.size() - room_header_length};
}

std::string make_room_frame(room_frame_type type, std::string_view room_id, std::uint64_t sequence,
                            std::string_view body) {
    std::string out;
    out.reserve(room_header_length + body.size());
    out.push_back(static_cast<char>(type));
    out.append(room_id);
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((sequence >> shift) & 0xff));
    }
    out.append(body);
    return out;
}

}  // namespace secms::chat

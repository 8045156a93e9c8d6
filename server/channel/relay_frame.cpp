#include "server/channel/relay_frame.hpp"

namespace secms::channel {

std::optional<relay_header> parse_relay_header(std::string_view frame) {
    if (frame.size() <= relay_header_length) return std::nullopt;
    auto type = static_cast<std::uint8_t>(frame[0]);
    if (type != static_cast<std::uint8_t>(frame_type::handshake) &&
        type != static_cast<std::uint8_t>(frame_type::record)) {
        return std::nullopt;
    }
    std::string_view id = frame.substr(1, session_id_length);
    for (char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    }
    std::uint64_t sequence = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        sequence = (sequence << 8) | static_cast<std::uint8_t>(frame[1 + session_id_length + i]);
    }
    return relay_header{static_cast<frame_type>(type), id, sequence};
}

std::string make_relay_frame(frame_type type, std::string_view session_id, std::uint64_t sequence,
                             std::string_view body) {
    std::string out;
    out.reserve(relay_header_length + body.size());
    out.push_back(static_cast<char>(type));
    out.append(session_id);
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((sequence >> shift) & 0xff));
    }
    out.append(body);
    return out;
}

}  // namespace secms::channel

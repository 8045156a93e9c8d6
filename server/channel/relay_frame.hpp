// The header of a binary relay frame (docs/api.md, "Relay frames"). The server reads the header
// to route and order frames; the body is end-to-end ciphertext (or a signed handshake message)
// that it never interprets.
//
//   u8  frame_type   1 = handshake message, 2 = channel record
//   32  session_id   ASCII, 32 lower-case hex characters
//   u64 sequence     big-endian; per sender and session: 0, 1, 2, … with no gap
//   …   body         1 byte or more
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace secms::channel {

enum class frame_type : std::uint8_t { handshake = 1, record = 2 };

inline constexpr std::size_t session_id_length = 32;
inline constexpr std::size_t relay_header_length = 1 + session_id_length + 8;

struct relay_header {
    frame_type type = frame_type::handshake;
    std::string_view session_id;
    std::uint64_t sequence = 0;
};

// Parses the header; nullopt when the frame is too short, has an unknown type, a session id that
// is not 32 lower-case hex characters, or no body.
std::optional<relay_header> parse_relay_header(std::string_view frame);

// Builds a frame (used by tests and the benchmark's clients).
std::string make_relay_frame(frame_type type, std::string_view session_id, std::uint64_t sequence,
                             std::string_view body);

}  // namespace secms::channel

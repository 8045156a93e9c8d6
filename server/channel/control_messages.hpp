// The JSON control messages a client sends over the application WebSocket (docs/api.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace secms::channel {

enum class control_error {
    malformed,     // not a JSON object with a string "type"
    unknown_type,  // a type this server does not know
};

std::string_view code(control_error e) noexcept;
std::string_view message(control_error e) noexcept;

// {"type":"error","error":{"code":…,"message":…}}
std::string error_message(std::string_view code, std::string_view message);

// Answers one client message; the reply to send back, if any.
std::optional<std::string> handle_control_message(std::string_view text);

}  // namespace secms::channel

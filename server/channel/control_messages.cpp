#include "server/channel/control_messages.hpp"

#include <boost/json.hpp>

namespace secms::channel {

std::string_view code(control_error e) noexcept {
    switch (e) {
        case control_error::malformed: return "malformed";
        case control_error::unknown_type: return "unknown_type";
    }
    return "malformed";
}

std::string_view message(control_error e) noexcept {
    switch (e) {
        case control_error::malformed:
            return "Messages are JSON objects with a string \"type\".";
        case control_error::unknown_type:
            return "This message type is not known to the server.";
    }
    return "Malformed message.";
}

std::string error_message(std::string_view error_code, std::string_view text) {
    boost::json::object error;
    error["code"] = error_code;
    error["message"] = text;
    boost::json::object msg;
    msg["type"] = "error";
    msg["error"] = std::move(error);
    return boost::json::serialize(msg);
}

std::optional<std::string> handle_control_message(std::string_view text) {
    boost::json::parse_options options;
    options.max_depth = 8;
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec, {}, options);
    const boost::json::string* type = nullptr;
    if (!ec && value.is_object()) {
        if (auto* t = value.as_object().if_contains("type"); t != nullptr && t->is_string()) {
            type = &t->as_string();
        }
    }
    if (type == nullptr) {
        return error_message(code(control_error::malformed), message(control_error::malformed));
    }
    if (*type == "ping") return std::string(R"({"type":"pong"})");
    return error_message(code(control_error::unknown_type), message(control_error::unknown_type));
}

}  // namespace secms::channel

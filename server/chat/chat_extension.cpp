#include "server/chat/chat_extension.hpp"

#include "server/chat/room_frame.hpp"
#include "server/chat/room_messages.hpp"
#include "server/core/offload.hpp"

namespace secms::chat {

void chat_extension::connected(const std::shared_ptr<channel::peer>& p,
                               const channel::member_info& info) {
    rooms_.connect(p, info);
}

void chat_extension::disconnected(const channel::peer* p) {
    rooms_.disconnect(p);
}

bool chat_extension::handles_message(std::string_view type) const noexcept {
    return is_room_message(type);
}

boost::asio::awaitable<void> chat_extension::handle_message(
    const std::shared_ptr<channel::peer>& from, std::string_view type,
    const boost::json::object& message) {
    // The caller awaits this before reading the connection's next message, so a client's
    // requests and frames keep their order.
    co_await core::offload(work_pool_, [&] {
        handle_room_message(rooms_, from, type, message);
        return true;
    });
}

bool chat_extension::handles_frame(std::uint8_t frame_type) const noexcept {
    return frame_type == static_cast<std::uint8_t>(room_frame_type::message) ||
           frame_type == static_cast<std::uint8_t>(room_frame_type::control);
}

channel::relay_target chat_extension::relay(const std::shared_ptr<channel::peer>& from,
                                            channel::message_ptr frame) {
    auto header = parse_room_header(*frame);
    auto routed = rooms_.relay(from.get(), frame);
    if (!routed) {
        from->send_text(std::make_shared<const std::string>(
            error_message(routed.error(), header ? header->room_id : std::string_view{})));
        return {};
    }
    // Both frame types are answered (a control frame with "control":true): clients pace on it.
    from->send_text(std::make_shared<const std::string>(sent_message(*routed)));
    return {std::move(routed->congested)};
}

}  // namespace secms::chat

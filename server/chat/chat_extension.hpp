// Plugs the chat rooms into the application WebSocket (channel::extension): room_*, mod_* and
// user_whereis messages, and binary frame types 3 (room message) and 4 (room control).
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "server/channel/extension.hpp"
#include "server/chat/room_hub.hpp"

namespace secms::chat {

class chat_extension final : public channel::extension {
  public:
    // Control messages run on `work_pool` (they may read or write the database); frames are
    // routed on the caller's thread from memory only.
    chat_extension(room_hub& rooms, boost::asio::thread_pool& work_pool)
        : rooms_(rooms), work_pool_(work_pool) {}

    void connected(const std::shared_ptr<channel::peer>& p,
                   const channel::member_info& info) override;
    void disconnected(const channel::peer* p) override;
    bool handles_message(std::string_view type) const noexcept override;
    boost::asio::awaitable<void> handle_message(const std::shared_ptr<channel::peer>& from,
                                                std::string_view type,
                                                const boost::json::object& message) override;
    bool handles_frame(std::uint8_t frame_type) const noexcept override;
    channel::relay_target relay(const std::shared_ptr<channel::peer>& from,
                                channel::message_ptr frame) override;

  private:
    room_hub& rooms_;
    boost::asio::thread_pool& work_pool_;
};

}  // namespace secms::chat

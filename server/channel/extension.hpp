// An extension of the application WebSocket: a module above the channel (the chat rooms) that
// claims more JSON control-message types and binary frame types. The hub tells it who connects
// and leaves, hands it the messages and frames it claims, and keeps its own code unaware of it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

#include "server/channel/peer.hpp"

namespace secms::channel {

class extension {
  public:
    virtual ~extension() = default;

    // A connection joined (after presence) or left. `disconnected` is called once per connection.
    virtual void connected(const std::shared_ptr<peer>& p, const member_info& info) = 0;
    virtual void disconnected(const peer* p) = 0;

    // Whether a control message of this "type" belongs to the extension.
    virtual bool handles_message(std::string_view type) const noexcept = 0;
    // Handles one claimed control message; answers go to `from` (and whoever else concerns it).
    virtual boost::asio::awaitable<void> handle_message(const std::shared_ptr<peer>& from,
                                                        std::string_view type,
                                                        const boost::json::object& message) = 0;

    // Whether binary frames whose first byte is `frame_type` belong to the extension.
    virtual bool handles_frame(std::uint8_t frame_type) const noexcept = 0;
    // Routes one claimed frame. Refusals and acknowledgements go to `from` as text messages;
    // the result names a congested receiver to wait for, if any (relay backpressure).
    virtual relay_target relay(const std::shared_ptr<peer>& from, message_ptr frame) = 0;
};

}  // namespace secms::channel

// The JSON control messages a client sends over the application WebSocket (docs/api.md):
// ping, certificate submission and proof, and the secure-channel lifecycle.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string_view>

#include "server/channel/channel_hub.hpp"

namespace secms::channel {

// Handles one text message from `from`; replies go through from->send_text. Certificate checks
// run on `work_pool`, never on the I/O thread.
boost::asio::awaitable<void> handle_client_message(channel_hub& hub,
                                                   const std::shared_ptr<peer>& from,
                                                   std::string_view text,
                                                   boost::asio::thread_pool& work_pool,
                                                   const core::clock& clock);

}  // namespace secms::channel

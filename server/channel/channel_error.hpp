// Expected failures of the channel module: each is sent to the client as
// {"type":"error","error":{"code":…,"message":…}} (with "session" when one is concerned).
#pragma once

#include <string_view>

namespace secms::channel {

enum class channel_error {
    malformed,           // not a JSON object with a string "type", or a field is missing
    unknown_type,        // a message type this server does not know
    no_challenge,        // a proof arrived without a pending challenge, or too late
    not_certified,       // the sender has no verified certificate yet
    peer_offline,        // the requested user is not online
    peer_not_certified,  // the requested user has no verified certificate
    self_channel,        // a channel with oneself
    too_many_channels,   // over the per-connection limit
    unknown_session,     // no such session (never existed, ended, or not yours)
    session_not_open,    // relay frame before both sides accepted
    bad_frame,           // a relay frame whose header is malformed
    out_of_order,        // a relay frame whose sequence is not the next one
    too_many_offers,     // the sender's channel offers still waiting for an answer are at the limit
    rate_limited,        // over the per-user control-message rate (retry after …)
};

std::string_view code(channel_error e) noexcept;
std::string_view message(channel_error e) noexcept;

}  // namespace secms::channel

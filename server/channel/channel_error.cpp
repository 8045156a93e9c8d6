#include "server/channel/channel_error.hpp"

namespace secms::channel {

std::string_view code(channel_error e) noexcept {
    switch (e) {
        case channel_error::malformed:
            return "malformed";
        case channel_error::unknown_type:
            return "unknown_type";
        case channel_error::no_challenge:
            return "no_challenge";
        case channel_error::not_certified:
            return "not_certified";
        case channel_error::peer_offline:
            return "peer_offline";
        case channel_error::peer_not_certified:
            return "peer_not_certified";
        case channel_error::self_channel:
            return "self_channel";
        case channel_error::too_many_channels:
            return "too_many_channels";
        case channel_error::unknown_session:
            return "unknown_session";
        case channel_error::session_not_open:
            return "session_not_open";
        case channel_error::bad_frame:
            return "bad_frame";
        case channel_error::out_of_order:
            return "out_of_order";
        case channel_error::too_many_offers:
            return "too_many_offers";
        case channel_error::rate_limited:
            return "rate_limited";
    }
    return "malformed";
}

std::string_view message(channel_error e) noexcept {
    switch (e) {
        case channel_error::malformed:
            return "Messages are JSON objects with a string \"type\" and the fields their type "
                   "needs.";
        case channel_error::unknown_type:
            return "This message type is not known to the server.";
        case channel_error::no_challenge:
            return "No proof of possession was asked for, or the challenge expired. Submit the "
                   "certificate again.";
        case channel_error::not_certified:
            return "Submit and verify your certificate before opening a secure channel.";
        case channel_error::peer_offline:
            return "That user is not online.";
        case channel_error::peer_not_certified:
            return "That user has not verified a certificate yet.";
        case channel_error::self_channel:
            return "A secure channel needs another user.";
        case channel_error::too_many_channels:
            return "Too many secure channels are open.";
        case channel_error::unknown_session:
            return "No such secure channel.";
        case channel_error::session_not_open:
            return "The secure channel is not open yet: both sides must accept first.";
        case channel_error::bad_frame:
            return "The relay frame header is malformed.";
        case channel_error::out_of_order:
            return "Relay frames must be numbered 0, 1, 2, … without gaps.";
        case channel_error::too_many_offers:
            return "Too many of your secure-channel offers are still waiting for an answer.";
        case channel_error::rate_limited:
            return "Too many requests of this kind: wait before sending it again.";
    }
    return "Malformed message.";
}

}  // namespace secms::channel

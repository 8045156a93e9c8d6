// Fuzz target: the chat rooms' command and room-name rules on the server (chat::
// handle_room_message): every room_* / user_whereis / mod_* message, with any room name, sent by a
// user, a moderator and an admin to one room hub.
//
// Input: lines. A line's first character picks the sender ('a' alice, 'm' a moderator, 'x' an
// admin; '+' instead advances the clock ten minutes); the rest of the line is a JSON object whose
// "type" names the message.
#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/channel/testing/recording_peer.hpp"
#include "server/chat/chat_error.hpp"
#include "server/chat/room_frame.hpp"
#include "server/chat/room_hub.hpp"
#include "server/chat/room_messages.hpp"
#include "server/core/clock.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/user_store.hpp"

namespace json = boost::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace secms;
    using namespace std::chrono_literals;
    using channel::testing::recording_peer;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    core::manual_clock clock;
    auto users = store::make_memory_store();
    auto bans = store::make_memory_ban_store();
    (void)users->create({"alice", "argon2id$x", 1, store::role::user, 1});
    (void)users->create({"mod", "argon2id$x", 1, store::role::moderator, 1});
    (void)users->create({"root", "argon2id$x", 1, store::role::admin, 1});
    (void)users->create({"bob", "argon2id$x", 1, store::role::user, 1});
    {
        chat::room_hub hub(*users, *bans, clock, {});
        const std::array<std::shared_ptr<recording_peer>, 3> peers{
            std::make_shared<recording_peer>(), std::make_shared<recording_peer>(),
            std::make_shared<recording_peer>()};
        hub.connect(peers[0], {1, "alice", "s1", store::role::user, "192.0.2.1"});
        hub.connect(peers[1], {2, "mod", "s2", store::role::moderator, "198.51.100.7"});
        hub.connect(peers[2], {3, "root", "s3", store::role::admin, "2001:db8::1"});

        std::size_t at = 0;
        int messages = 0;
        while (at < input.size() && messages++ < 64) {
            auto end = input.find('\n', at);
            if (end == std::string_view::npos) end = input.size();
            const std::string_view line = input.substr(at, end - at);
            at = end + 1;
            if (line.empty()) continue;
            if (line[0] == '+') {
                clock.advance(600s);
                continue;
            }
            const auto& from = line[0] == 'm' ? peers[1] : line[0] == 'x' ? peers[2] : peers[0];
            // Parsed as the WebSocket layer does before it hands a room message over.
            json::parse_options options;
            options.max_depth = 8;
            boost::system::error_code ec;
            json::value value = json::parse(line.substr(1), ec, {}, options);
            if (ec || !value.is_object()) continue;
            const auto* type = value.as_object().if_contains("type");
            if (type == nullptr || !type->is_string()) continue;
            const std::string_view type_name = type->as_string();
            // A room name is whatever the fuzzer wrote: its public id must be well formed.
            if (chat::is_room_message(type_name)) {
                chat::handle_room_message(hub, from, type_name, value.as_object());
            }
            if (const auto* room = value.as_object().if_contains("room");
                room != nullptr && room->is_string()) {
                if (!chat::is_room_id(chat::public_room_id(room->as_string()))) std::abort();
            }
        }
        for (const auto& p : peers) hub.disconnect(p.get());
    }
    return 0;
}

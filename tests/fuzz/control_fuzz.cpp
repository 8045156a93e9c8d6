// Fuzz target: the WebSocket JSON control messages, every type (ping, certificate_*, channel_*,
// and the chat rooms' room_* / user_whereis / mod_* through the chat extension), sent by three
// connected users through a channel hub as the WebSocket session sends them.
//
// Input: lines. A line's first character picks the sender ('a' alice, 'b' bob, 'm' a moderator;
// '+' instead advances the clock a minute and sweeps); the rest of the line is the message text.
// 32 '=' characters in a message stand for the id of the newest channel session (ids are random).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/channel/channel_hub.hpp"
#include "server/channel/client_messages.hpp"
#include "server/channel/testing/recording_peer.hpp"
#include "server/chat/chat_extension.hpp"
#include "server/chat/room_hub.hpp"
#include "server/core/clock.hpp"
#include "server/core/metrics.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/user_store.hpp"

namespace {

using namespace secms;
using channel::testing::recording_peer;

constexpr std::string_view session_placeholder = "================================";

// The id of the newest session any peer was told of ("session":"<32 hex>"), or empty.
std::string newest_session(const std::array<std::shared_ptr<recording_peer>, 3>& peers) {
    constexpr std::string_view key = "\"session\":\"";
    for (const auto& p : peers) {
        for (auto it = p->texts.rbegin(); it != p->texts.rend(); ++it) {
            auto at = it->rfind(key);
            if (at != std::string::npos && at + key.size() + 32 <= it->size()) {
                return it->substr(at + key.size(), 32);
            }
        }
    }
    return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace std::chrono_literals;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    core::manual_clock clock;
    core::metrics metrics;
    auto users = store::make_memory_store();
    auto bans = store::make_memory_ban_store();
    (void)users->create({"alice", "argon2id$x", 1, store::role::user, 1});
    (void)users->create({"bob", "argon2id$x", 1, store::role::user, 1});
    (void)users->create({"mod", "argon2id$x", 1, store::role::moderator, 1});
    boost::asio::thread_pool pool(1);
    {
        chat::room_hub rooms(*users, *bans, clock, {});
        chat::chat_extension chat(rooms, pool);
        channel::channel_hub hub(metrics, clock, {"https://localhost:8443", 60s, 60s, 300s, 4});
        hub.add_extension(chat);
        const std::array<std::shared_ptr<recording_peer>, 3> peers{
            std::make_shared<recording_peer>(), std::make_shared<recording_peer>(),
            std::make_shared<recording_peer>()};
        hub.join(peers[0], {1, "alice", "s1", store::role::user, "192.0.2.1"});
        hub.join(peers[1], {2, "bob", "s2", store::role::user, "192.0.2.2"});
        hub.join(peers[2], {3, "mod", "s3", store::role::moderator, "198.51.100.7"});

        boost::asio::io_context io;
        std::size_t at = 0;
        int messages = 0;
        while (at < input.size() && messages++ < 64) {
            auto end = input.find('\n', at);
            if (end == std::string_view::npos) end = input.size();
            const std::string_view line = input.substr(at, end - at);
            at = end + 1;
            if (line.empty()) continue;
            if (line[0] == '+') {
                clock.advance(61s);
                hub.sweep();
                continue;
            }
            const auto& from = line[0] == 'b' ? peers[1] : line[0] == 'm' ? peers[2] : peers[0];
            std::string text(line.substr(1));
            for (auto p = text.find(session_placeholder); p != std::string::npos;
                 p = text.find(session_placeholder, p + 1)) {
                const auto id = newest_session(peers);
                if (id.empty()) break;
                text.replace(p, session_placeholder.size(), id);
            }
            const std::shared_ptr<channel::peer> as_peer = from;
            boost::asio::co_spawn(io,
                                  channel::handle_client_message(hub, as_peer, text, pool, clock),
                                  boost::asio::detached);
            io.run();
            io.restart();
        }
        for (const auto& p : peers) hub.leave(p.get());
    }
    pool.join();
    return 0;
}

// Fuzz target: relay frame and room frame headers. Each input is parsed as both kinds (a parsed
// header must rebuild the same bytes), then cut into frames that two users send through a channel
// hub with the chat extension: an open secure channel and a joined room route them, so the
// sequence checks and the extension's dispatch see every frame the fuzzer makes.
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/channel/channel_hub.hpp"
#include "server/channel/relay_frame.hpp"
#include "server/channel/testing/recording_peer.hpp"
#include "server/chat/chat_extension.hpp"
#include "server/chat/room_frame.hpp"
#include "server/chat/room_hub.hpp"
#include "server/core/clock.hpp"
#include "server/core/metrics.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/user_store.hpp"

namespace {

using namespace secms;
using channel::testing::recording_peer;

void check_headers(std::string_view frame) {
    if (auto relay = channel::parse_relay_header(frame)) {
        if (frame.size() <= channel::relay_header_length) std::abort();  // a body is required
        const auto rebuilt =
            channel::make_relay_frame(relay->type, relay->session_id, relay->sequence,
                                      frame.substr(channel::relay_header_length));
        if (rebuilt != frame) std::abort();
    }
    if (auto room = chat::parse_room_header(frame)) {
        if (!chat::is_room_id(room->room_id)) std::abort();
        if (room->body_size == 0 || room->body_size + chat::room_header_length != frame.size()) {
            std::abort();
        }
        const auto rebuilt = chat::make_room_frame(room->type, room->room_id, room->sequence,
                                                   frame.substr(chat::room_header_length));
        if (rebuilt != frame) std::abort();
    }
}

pgp::certificate_report report_of(std::string fingerprint, std::string name) {
    pgp::certificate_report r;
    r.fingerprint = std::move(fingerprint);
    r.key_id = r.fingerprint.substr(r.fingerprint.size() - 16);
    r.name = std::move(name);
    r.armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    return r;
}

void certify(channel::channel_hub& hub, const recording_peer* p, std::string fingerprint,
             std::string name) {
    if (!hub.issue_challenge(p, report_of(std::move(fingerprint), std::move(name)))) std::abort();
    auto pending = hub.take_challenge(p);
    if (!pending) std::abort();
    hub.certify(p, std::move(pending->report));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace std::chrono_literals;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_headers(input);

    core::manual_clock clock;
    core::metrics metrics;
    auto users = store::make_memory_store();
    auto bans = store::make_memory_ban_store();
    (void)users->create({"alice", "argon2id$x", 1, store::role::user, 1});
    (void)users->create({"bob", "argon2id$x", 1, store::role::user, 1});
    boost::asio::thread_pool pool(1);
    {
        chat::room_hub rooms(*users, *bans, clock, {});
        chat::chat_extension chat(rooms, pool);
        channel::channel_hub hub(metrics, clock, {"https://localhost:8443", 60s, 60s, 300s, 4});
        hub.add_extension(chat);
        auto alice = std::make_shared<recording_peer>();
        auto bob = std::make_shared<recording_peer>();
        hub.join(alice, {1, "alice", "s1"});
        hub.join(bob, {2, "bob", "s2"});
        certify(hub, alice.get(), std::string(40, 'A'), "Alice");
        certify(hub, bob.get(), std::string(40, 'B'), "Bob");
        // The session id is random: a frame names "the open session" (or, with a room frame type,
        // the lobby) with 32 '=' characters.
        auto session = hub.request_channel(alice.get(), 2);
        if (!session || !hub.accept(alice.get(), *session) || !hub.accept(bob.get(), *session)) {
            std::abort();
        }
        const std::string lobby = chat::public_room_id("lobby");
        (void)rooms.join(alice.get(), "lobby");
        (void)rooms.join(bob.get(), "lobby");

        // Frames: a first byte (low bit: sender; bit 1: advance the clock), then a length byte,
        // then that many bytes of frame.
        std::size_t at = 0;
        int frames = 0;
        while (at + 2 <= input.size() && frames++ < 64) {
            const auto control = static_cast<std::uint8_t>(input[at]);
            const std::size_t length = static_cast<std::uint8_t>(input[at + 1]);
            at += 2;
            std::string frame(input.substr(at, length));
            at += frame.size();
            check_headers(frame);
            if (frame.size() >= 1 + channel::session_id_length &&
                frame.compare(1, channel::session_id_length,
                              std::string(channel::session_id_length, '=')) == 0) {
                const bool room_frame = frame[0] == 3 || frame[0] == 4;
                frame.replace(1, channel::session_id_length, room_frame ? lobby : *session);
            }
            if ((control & 2u) != 0) clock.advance(std::chrono::seconds(control >> 2));
            const auto& from = (control & 1u) != 0 ? bob : alice;
            (void)hub.relay(from.get(), std::make_shared<const std::string>(std::move(frame)));
            if ((control & 2u) != 0) hub.sweep();
        }
        hub.leave(alice.get());
        hub.leave(bob.get());
    }
    pool.join();
    return 0;
}

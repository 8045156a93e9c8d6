#include "server/channel/client_messages.hpp"

#include <boost/json.hpp>

#include "server/core/offload.hpp"

namespace secms::channel {

namespace json = boost::json;

namespace {

void reply(const std::shared_ptr<peer>& to, std::string text) {
    to->send_text(std::make_shared<const std::string>(std::move(text)));
}

void reply_error(const std::shared_ptr<peer>& to, channel_error e, std::string_view session = {}) {
    reply(to, error_message(e, session));
}

std::optional<std::string> string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::string rejection(std::string_view code_text, std::string_view message_text,
                      std::optional<std::int64_t> retry_after = std::nullopt) {
    json::object error;
    error["code"] = code_text;
    error["message"] = message_text;
    if (retry_after) error["retry_after"] = *retry_after;
    json::object msg;
    msg["type"] = "certificate_rejected";
    msg["error"] = std::move(error);
    return json::serialize(msg);
}

}  // namespace

boost::asio::awaitable<void> handle_client_message(channel_hub& hub,
                                                   const std::shared_ptr<peer>& from,
                                                   std::string_view text,
                                                   boost::asio::thread_pool& work_pool,
                                                   const core::clock& clock) {
    json::parse_options options;
    options.max_depth = 8;
    boost::system::error_code ec;
    json::value value = json::parse(text, ec, {}, options);
    if (ec || !value.is_object()) co_return reply_error(from, channel_error::malformed);
    const json::object& msg = value.as_object();
    auto type = string_field(msg, "type");
    if (!type) co_return reply_error(from, channel_error::malformed);
    // Every type, the rooms' included, is paid for from the sender's per-user budget first; a
    // refused message does nothing else.
    if (auto wait = hub.admit_control(from.get(), *type)) {
        co_return reply(from, rate_limited_message(*type, *wait));
    }

    if (*type == "ping") co_return reply(from, R"({"type":"pong"})");

    if (*type == "certificate_submit") {
        auto armored = string_field(msg, "certificate");
        if (!armored) co_return reply_error(from, channel_error::malformed);
        // Each submission is a check on the work pool: its own rate, before any work is queued.
        if (auto wait = hub.admit_certificate_submission(from.get())) {
            co_return reply(from, rejection(code(channel_error::rate_limited),
                                            message(channel_error::rate_limited), *wait));
        }
        auto now = clock.unix_now();
        const pgp::known_certificates& known = hub.known();
        const pgp::pgp_limits& limits = hub.settings().certificate;
        auto checked = co_await core::offload(
            work_pool, [&] { return pgp::verify_certificate(*armored, now, limits, &known); });
        if (!checked) {
            co_return reply(from,
                            rejection(pgp::code(checked.error()), pgp::message(checked.error())));
        }
        auto challenge = hub.issue_challenge(from.get(), std::move(checked).value());
        if (!challenge) co_return;  // the connection is leaving
        json::object out;
        out["type"] = "certificate_challenge";
        out["challenge"] = *challenge;
        co_return reply(from, json::serialize(out));
    }

    if (*type == "certificate_proof") {
        auto signature = string_field(msg, "signature");
        if (!signature) co_return reply_error(from, channel_error::malformed);
        auto pending = hub.take_challenge(from.get());
        if (!pending) co_return reply_error(from, channel_error::no_challenge);
        auto now = clock.unix_now();
        auto proved = co_await core::offload(work_pool, [&] {
            const auto* bytes = reinterpret_cast<const std::uint8_t*>(pending->challenge.data());
            return pgp::verify_possession(
                pending->report, std::span(bytes, pending->challenge.size()), *signature, now);
        });
        if (!proved) {
            co_return reply(from,
                            rejection(pgp::code(proved.error()), pgp::message(proved.error())));
        }
        json::object out;
        out["type"] = "certificate_accepted";
        out["report"] = pgp::to_json(pending->report);
        hub.certify(from.get(), std::move(pending->report));
        co_return reply(from, json::serialize(out));
    }

    if (*type == "channel_request") {
        auto* to = msg.if_contains("peer");
        if (to == nullptr || !to->is_int64()) co_return reply_error(from, channel_error::malformed);
        auto made = hub.request_channel(from.get(), to->as_int64());
        if (!made) co_return reply_error(from, made.error());
        co_return;  // both sides got a channel_offer
    }

    if (*type == "channel_accept" || *type == "channel_reject" || *type == "channel_end") {
        auto session = string_field(msg, "session");
        if (!session) co_return reply_error(from, channel_error::malformed);
        core::status<channel_error> done = core::ok;
        if (*type == "channel_accept") {
            done = hub.accept(from.get(), *session);
        } else if (*type == "channel_reject") {
            done = hub.end(from.get(), *session, end_reason::rejected);
        } else {
            // A client that found the channel compromised says why; the peer is shown the code.
            auto reason = string_field(msg, "reason");
            done = hub.end(from.get(), *session,
                           reason ? end_reason::compromised : end_reason::ended_by_user,
                           reason.value_or(""));
        }
        if (!done) reply_error(from, done.error(), *session);
        co_return;
    }

    // Types a module above the channel claims (the chat rooms) are its business.
    if (auto* ext = hub.extension_for_message(*type)) {
        co_return co_await ext->handle_message(from, *type, msg);
    }

    reply_error(from, channel_error::unknown_type);
}

}  // namespace secms::channel

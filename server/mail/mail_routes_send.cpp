// Send and append: the mail routes that take message bytes.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "server/core/offload.hpp"
#include "server/mail/mail_routes_internal.hpp"
#include "server/mail/message_headers.hpp"

namespace secms::mail::detail {

namespace {

bool is_rfc822(const http::request& req) {
    auto type = req[http::beast_http::field::content_type];
    return type.starts_with("message/rfc822");
}

// A reply's first word: the SMTP/LMTP status code ("550"), or the whole short text.
std::string reply_code(std::string_view reply) {
    auto space = reply.find_first_of(" -");
    return std::string(reply.substr(0, std::min<std::size_t>(space, 16)));
}

core::status<mail_error> remove_draft(mailbox& box, imap_session& s, std::uint32_t uid) {
    auto drafts = special_folder(box, s, special_use::drafts);
    if (!drafts) return core::fail(drafts.error());
    if (!*drafts) return core::ok;
    if (auto selected = s.select(**drafts); !selected) return core::fail(selected.error());
    static const std::vector<std::string> deleted{"\\Deleted"};
    std::uint32_t uids[] = {uid};
    if (auto stored = s.store_flags(uids, deleted, {}); !stored) return stored;
    return s.expunge(uids);
}

}  // namespace

route_result send(call& c) {
    const auto& settings = c.service.settings();
    if (auto wait = c.service.acquire_send(c.login.userid)) {
        auto res = error_response(mail_error::rate_limited, c.version());
        res.set(http::beast_http::field::retry_after,
                std::to_string(std::max<long>(1, wait->count())));
        co_return res;
    }
    auto request = parse_send_request(c.req.target(), settings.max_recipients);
    if (!request) co_return error_response(request.error(), c.version());
    const std::string& raw = c.req.body();
    if (raw.size() > settings.max_message_bytes)
        co_return error_response(mail_error::too_large, c.version());
    if (!is_rfc822(c.req) || raw.empty())
        co_return error_response(mail_error::bad_request, c.version());
    auto headers = read_outgoing_headers(raw);
    if (!headers) co_return error_response(headers.error(), c.version());
    const std::string own = own_address(c);
    auto is_own = [&](const std::optional<mail_address>& a) {
        return !a || same_address(a->address, own);
    };
    if (headers->from.size() != 1 || !same_address(headers->from.front().address, own) ||
        !is_own(headers->sender) || !is_own(headers->resent_sender) ||
        !std::all_of(headers->resent_from.begin(), headers->resent_from.end(),
                     [&](const mail_address& a) { return same_address(a.address, own); })) {
        co_return error_response(mail_error::from_not_allowed, c.version());
    }
    if (headers->sender_text_holds_address) {
        co_return error_response(mail_error::from_not_allowed, c.version(),
                                 "The display name may not contain an address.");
    }

    auto external_smtp = c.service.external_smtp(c.login.id);
    std::vector<std::string> local, remote;
    if (external_smtp) {
        remote = request->to;  // an external account sends everything through its own server
    } else {
        auto split = split_recipients(request->to, settings.domain);
        if (!split) co_return error_response(split.error(), c.version());
        for (std::size_t i = 0; i < split->local.size(); ++i) {
            const auto& name = split->usernames[i];
            bool exists = !name.empty() && co_await core::offload(c.service.pool(), [&] {
                return c.service.user_exists(name);
            });
            if (!exists) {
                co_return error_response(
                    mail_error::unknown_recipient, c.version(),
                    "There is no user " + split->local[i] + " on this server.");
            }
        }
        if (!split->external.empty() && !settings.smarthost)
            co_return error_response(mail_error::no_smarthost, c.version());
        local = std::move(split->local);
        remote = std::move(split->external);
    }

    // Delivery: LMTP for this server's users, SMTP for the rest. Nothing is appended to Sent
    // unless at least one recipient accepted the message.
    std::vector<recipient_result> results;
    std::optional<mail_error> failure;
    std::string failure_text;
    auto collect = [&](core::result<std::vector<recipient_result>, mail_error>& r,
                       const std::vector<std::string>& recipients) {
        if (!r) {
            // The whole transport failed: each of its recipients is refused.
            failure = r.error();
            for (const auto& address : recipients)
                results.push_back({address, false, std::string(code(r.error()))});
            return;
        }
        for (auto& one : *r) results.push_back(std::move(one));
    };
    if (!local.empty()) {
        auto delivered = co_await core::offload(
            c.service.pool(), [&] { return deliver_lmtp(settings.lmtp, own, local, raw); });
        collect(delivered, local);
    }
    if (!remote.empty()) {
        const transport_endpoint& relay = external_smtp ? *external_smtp : *settings.smarthost;
        auto submitted = co_await core::offload(
            c.service.pool(), [&] { return submit_smtp(relay, own, remote, raw); });
        collect(submitted, remote);
    }
    bool any_accepted = false;
    json::array refused;
    for (const auto& r : results) {
        if (r.accepted) {
            any_accepted = true;
            continue;
        }
        if (failure_text.empty() && !failure) failure_text = r.reply;
        json::object o;
        o["address"] = r.address;
        o["code"] = reply_code(r.reply);
        o["message"] = r.reply;
        refused.push_back(std::move(o));
    }
    if (!any_accepted) {
        spdlog::info("mail: send refused userid={} recipients={}", c.login.userid,
                     request->to.size());
        if (failure && *failure != mail_error::send_failed)
            co_return error_response(*failure, c.version());
        std::string text = "The mail server refused the message";
        if (!failure_text.empty()) text += ": " + failure_text.substr(0, 300);
        co_return error_response(mail_error::send_failed, c.version(), text);
    }
    ++c.service.metrics().mail_sent_total;
    spdlog::info("mail: sent userid={} recipients={} refused={}", c.login.userid,
                 request->to.size(), refused.size());

    auto box = c.box;
    const auto draft = request->draft_uid;
    // Why the copy in Sent is missing (the mail went out all the same): the page says so.
    std::optional<mail_error> copy_failure;
    auto sent_uid = co_await box->run(
        [&](imap_session& s) -> core::result<std::optional<std::uint32_t>, mail_error> {
            box->invalidate();
            auto sent = special_folder(*box, s, special_use::sent);
            std::optional<std::uint32_t> uid;
            if (sent && *sent) {
                static const std::vector<std::string> seen{"\\Seen"};
                auto appended = s.append(**sent, raw, seen);
                if (appended) {
                    uid = *appended;
                } else {
                    copy_failure = appended.error();
                }
            } else {
                copy_failure = sent ? mail_error::folder_not_found : sent.error();
            }
            if (draft) {
                if (auto removed = remove_draft(*box, s, *draft); !removed) {
                    spdlog::warn("mail: draft not removed after sending userid={}: {}",
                                 c.login.userid, code(removed.error()));
                }
            }
            return uid;
        },
        mailbox::transfer_time(raw.size()));
    json::object out;
    out["sent"] = true;
    if (sent_uid && *sent_uid) {
        out["sent_uid"] = **sent_uid;
    } else {
        out["sent_uid"] = nullptr;
    }
    if (!sent_uid) copy_failure = sent_uid.error();
    if (copy_failure) {
        json::object why;
        why["code"] = code(*copy_failure);
        why["message"] = message(*copy_failure);
        out["sent_copy_error"] = std::move(why);
    } else {
        out["sent_copy_error"] = nullptr;
    }
    out["refused"] = std::move(refused);
    co_return http::json_response(status::ok, out, c.version());
}

route_result append(call& c) {
    auto request = parse_append_request(c.req.target());
    if (!request) co_return error_response(request.error(), c.version());
    const std::string& raw = c.req.body();
    if (raw.size() > c.service.settings().max_message_bytes)
        co_return error_response(mail_error::too_large, c.version());
    if (!is_rfc822(c.req) || raw.empty())
        co_return error_response(mail_error::bad_request, c.version());
    auto box = c.box;
    auto uid = co_await box->run(
        [&](imap_session& s) {
            box->invalidate();
            return s.append(request->folder, raw, request->flags);
        },
        mailbox::transfer_time(raw.size()));
    if (!uid && uid.error() == mail_error::quota_exceeded) co_return co_await quota_error(c);
    if (!uid) co_return error_response(uid.error(), c.version());
    json::object out;
    if (*uid) {
        out["uid"] = **uid;
    } else {
        out["uid"] = nullptr;
    }
    co_return http::json_response(status::created, out, c.version());
}

}  // namespace secms::mail::detail

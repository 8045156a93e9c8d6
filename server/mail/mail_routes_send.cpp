// Send, append, the external account and the status: the mail routes that take message bytes
// or credentials.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
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
    auto sent_uid = co_await box->run(
        [&](imap_session& s) -> core::result<std::optional<std::uint32_t>, mail_error> {
            box->invalidate();
            auto sent = special_folder(*box, s, special_use::sent);
            std::optional<std::uint32_t> uid;
            if (sent && *sent) {
                static const std::vector<std::string> seen{"\\Seen"};
                auto appended = s.append(**sent, raw, seen);
                if (appended) uid = *appended;
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

namespace {

// Resolves `host`; refused when any address is not public (unless private ones are allowed).
// The check and libetpan's own resolution are separate lookups: a name that changes between
// them is not caught (documented in docs/api.md).
core::status<mail_error> check_host(std::string_view host, std::uint16_t port, bool allow_private) {
    if (host.empty() || host.size() > 253 || port == 0) return core::fail(mail_error::bad_request);
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto found = resolver.resolve(std::string(host), std::to_string(port), ec);
    if (ec || found.empty()) return core::fail(mail_error::unavailable);
    if (allow_private) return core::ok;
    for (const auto& entry : found) {
        if (!public_address(entry.endpoint().address()))
            return core::fail(mail_error::external_refused);
    }
    return core::ok;
}

std::optional<std::uint16_t> port_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_int64() || v->as_int64() <= 0 || v->as_int64() > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v->as_int64());
}

}  // namespace

route_result put_account(call& c) {
    const auto& settings = c.service.settings();
    if (!settings.allow_external_accounts)
        co_return error_response(mail_error::not_enabled, c.version(),
                                 "External mail accounts are not allowed on this server.");
    auto body = read_json(c.req);
    if (!body) co_return error_response(body.error(), c.version());
    auto email = string_field(*body, "email");
    auto imap_host = string_field(*body, "imap_host");
    auto smtp_host = string_field(*body, "smtp_host");
    auto imap_tls = parse_tls_mode(string_field(*body, "imap_tls").value_or(""));
    auto smtp_tls = parse_tls_mode(string_field(*body, "smtp_tls").value_or(""));
    auto imap_port = port_field(*body, "imap_port");
    auto smtp_port = port_field(*body, "smtp_port");
    auto username = string_field(*body, "username");
    core::secret_string password;
    if (auto* p = body->if_contains("password"); p != nullptr && p->is_string()) {
        auto& s = p->as_string();
        password = core::secret_string(std::string(s.data(), s.size()));
        core::wipe(s.data(), s.size());
    }
    core::wipe(c.req.body().data(), c.req.body().size());
    if (!email || !valid_address(*email) || !imap_host || !smtp_host || !imap_tls || !smtp_tls ||
        !imap_port || !smtp_port || !username || username->empty() || username->size() > 256 ||
        password.empty()) {
        co_return error_response(mail_error::bad_request, c.version());
    }
    // Plain text to someone else's server would give the password away.
    if ((*imap_tls == tls_mode::none || *smtp_tls == tls_mode::none) &&
        !settings.external_allow_private) {
        co_return error_response(mail_error::external_refused, c.version(),
                                 "External accounts must use TLS or STARTTLS.");
    }
    const bool allow_private = settings.external_allow_private;
    auto checked = co_await core::offload(c.service.pool(), [&]() -> core::status<mail_error> {
        if (auto ok = check_host(*imap_host, *imap_port, allow_private); !ok) return ok;
        return check_host(*smtp_host, *smtp_port, allow_private);
    });
    if (!checked) co_return error_response(checked.error(), c.version());

    external_account account;
    account.email = lower_domain(*email);
    account.imap = {*imap_host, *imap_port, *imap_tls, settings.timeout};
    account.smtp.host = *smtp_host;
    account.smtp.port = *smtp_port;
    account.smtp.tls = *smtp_tls;
    account.smtp.timeout = settings.timeout;
    account.smtp.username = *username;
    account.smtp.password = core::secret_string(std::string(password.reveal()));
    account.username = *username;
    auto logged_in = co_await core::offload(c.service.pool(), [&]() -> core::status<mail_error> {
        auto session = imap_session::open(account.imap, account.username, password);
        if (!session) return core::fail(session.error());
        return check_smtp_login(account.smtp);
    });
    if (!logged_in) co_return error_response(logged_in.error(), c.version());
    c.service.set_external(c.login, std::move(account), std::move(password));
    spdlog::info("mail: external account set for userid={}", c.login.userid);
    auto box = c.service.mailbox_for(c.login);
    if (box) c.box = std::move(*box);
    co_return co_await status_of(c);
}

route_result delete_account(call& c) {
    c.service.clear_external(c.login.id);
    co_return http::empty_response(status::no_content, c.version());
}

namespace {

// "3.2 MiB": one decimal, in the largest binary unit that keeps the number at least 1.
std::string size_text(std::uint64_t bytes) {
    static constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    if (unit == 0) {
        std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
    } else {
        std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    }
    return text;
}

json::value quota_json(const std::optional<quota_usage>& quota) {
    if (!quota) return nullptr;
    json::object q;
    q["used_bytes"] = quota->used_bytes;
    q["limit_bytes"] = quota->limit_bytes;
    return q;
}

}  // namespace

route_result quota_error(call& c) {
    auto box = c.box;
    auto quota = co_await box->run([](imap_session& s) { return s.quota(); });
    std::string text = "The mailbox is full";
    if (quota && *quota) {
        text += " (" + size_text((*quota)->used_bytes) + " of " + size_text((*quota)->limit_bytes) +
                " used)";
    }
    text += "; delete mail or empty the Trash.";
    co_return error_response(mail_error::quota_exceeded, c.version(), text);
}

route_result status_of(call& c) {
    const auto& settings = c.service.settings();
    external_account external;
    const bool has_external = c.service.external_summary(c.login.id, external);
    auto box = c.box;
    std::optional<quota_usage> quota;
    auto reached = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        // A server without QUOTA, or a failed GETQUOTAROOT, leaves the quota unknown (null).
        if (auto q = s.quota(); q) quota = *q;
        return core::ok;
    });
    json::object out;
    out["enabled"] = true;
    out["address"] = own_address(c);
    out["domain"] = settings.domain;
    out["account"] = has_external ? "external" : "local";
    if (has_external) {
        json::object e;
        auto word = [](tls_mode m) {
            return m == tls_mode::tls ? "tls" : m == tls_mode::starttls ? "starttls" : "none";
        };
        e["email"] = external.email;
        e["imap_host"] = external.imap.host;
        e["imap_port"] = external.imap.port;
        e["imap_tls"] = word(external.imap.tls);
        e["smtp_host"] = external.smtp.host;
        e["smtp_port"] = external.smtp.port;
        e["smtp_tls"] = word(external.smtp.tls);
        e["username"] = external.username;
        out["external"] = std::move(e);
    } else {
        out["external"] = nullptr;
    }
    out["smarthost"] = has_external || settings.smarthost.has_value();
    out["max_message_bytes"] = settings.max_message_bytes;
    out["quota"] = quota_json(quota);
    if (reached) {
        out["connection"] = "connected";
        out["error"] = nullptr;
    } else {
        out["connection"] = "error";
        json::object e;
        e["code"] = code(reached.error());
        e["message"] = message(reached.error());
        out["error"] = std::move(e);
    }
    co_return http::json_response(status::ok, out, c.version());
}

}  // namespace secms::mail::detail

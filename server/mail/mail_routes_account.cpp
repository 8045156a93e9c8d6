// The external account (PUT/DELETE /account) and GET /status with the quota.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdio>

#include "server/core/offload.hpp"
#include "server/mail/mail_routes_internal.hpp"
#include "server/mail/message_headers.hpp"

namespace secms::mail::detail {

namespace {

// Resolves `host`; refused when any address is not public (unless private ones are allowed).
// Only an early answer: every connection to the account's servers, these first ones included,
// resolves and checks again and goes to the checked address (imap_endpoint::address_allowed).
core::status<mail_error> check_host(std::string_view host, std::uint16_t port, bool allow_private) {
    if (host.empty() || host.size() > 253 || port == 0) return core::fail(mail_error::bad_request);
    if (allow_private) {
        boost::asio::io_context io;
        boost::asio::ip::tcp::resolver resolver(io);
        boost::system::error_code ec;
        auto found = resolver.resolve(std::string(host), std::to_string(port), ec);
        if (ec || found.empty()) return core::fail(mail_error::unavailable);
        return core::ok;
    }
    auto checked = resolve_checked(host, public_address);
    if (!checked) return core::fail(checked.error());
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
    if (!allow_private) {
        account.imap.address_allowed = public_address;
        account.smtp.address_allowed = public_address;
    }
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

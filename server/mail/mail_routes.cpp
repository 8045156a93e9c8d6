#include "server/mail/mail_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/http/router.hpp"
#include "server/mail/mail_routes_internal.hpp"

namespace secms::mail {

using http::beast_http::status;
using http::beast_http::verb;

status status_for(mail_error e) noexcept {
    switch (e) {
        case mail_error::not_enabled:
        case mail_error::folder_not_found:
        case mail_error::message_not_found:
            return status::not_found;
        case mail_error::bad_request:
            return status::bad_request;
        case mail_error::folder_protected:
        case mail_error::folder_exists:
            return status::conflict;
        case mail_error::too_large:
            return status::payload_too_large;
        case mail_error::rate_limited:
            return status::too_many_requests;
        case mail_error::from_not_allowed:
            return status::forbidden;
        case mail_error::unknown_recipient:
        case mail_error::no_smarthost:
        case mail_error::external_refused:
        case mail_error::login_failed:
            return status::unprocessable_entity;
        case mail_error::send_failed:
        case mail_error::protocol:
            return status::bad_gateway;
        case mail_error::unavailable:
            return status::service_unavailable;
        case mail_error::timeout:
            return status::gateway_timeout;
        case mail_error::quota_exceeded:
            return status::insufficient_storage;
    }
    return status::service_unavailable;
}

http::response error_response(mail_error e, unsigned version, std::string_view detail) {
    auto res =
        http::error_response(status_for(e), code(e), detail.empty() ? message(e) : detail, version);
    if (e == mail_error::rate_limited) res.set(http::beast_http::field::retry_after, "1");
    return res;
}

namespace detail {

core::result<json::object, mail_error> read_json(const http::request& req) {
    if (!req[http::beast_http::field::content_type].starts_with("application/json") ||
        req.body().size() > 64 * 1024) {
        return core::fail(mail_error::bad_request);
    }
    json::parse_options options;
    options.max_depth = 4;
    boost::system::error_code ec;
    json::value v = json::parse(req.body(), ec, {}, options);
    if (ec || !v.is_object()) return core::fail(mail_error::bad_request);
    return std::move(v.as_object());
}

std::optional<std::string> string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::string_view special_use_name(special_use u) {
    switch (u) {
        case special_use::inbox:
            return "inbox";
        case special_use::sent:
            return "sent";
        case special_use::drafts:
            return "drafts";
        case special_use::trash:
            return "trash";
        case special_use::junk:
            return "junk";
        case special_use::archive:
            return "archive";
        case special_use::none:
            break;
    }
    return {};
}

json::value folder_json(const folder_info& f) {
    json::object o;
    o["path"] = f.path;
    o["name"] = f.name;
    o["delimiter"] = std::string(1, f.delimiter);
    auto use = special_use_name(f.use);
    if (use.empty()) {
        o["special_use"] = nullptr;
    } else {
        o["special_use"] = use;
    }
    o["subscribed"] = f.subscribed;
    o["selectable"] = f.selectable;
    o["total"] = f.total;
    o["unseen"] = f.unseen;
    return o;
}

namespace {

json::array addresses_json(const std::vector<mail_address>& list) {
    json::array out;
    for (const auto& a : list) {
        json::object o;
        o["name"] = a.name;
        o["address"] = a.address;
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace

json::value summary_json(const message_summary& m) {
    json::object o;
    o["uid"] = m.uid;
    json::array flags;
    for (const auto& f : m.flags) flags.emplace_back(f);
    o["flags"] = std::move(flags);
    o["size"] = m.size;
    o["date"] = m.date_iso;
    o["from"] = addresses_json(m.from);
    o["to"] = addresses_json(m.to);
    o["cc"] = addresses_json(m.cc);
    o["reply_to"] = addresses_json(m.reply_to);
    o["subject"] = m.subject;
    o["message_id"] = m.message_id;
    o["in_reply_to"] = m.in_reply_to;
    json::array refs;
    for (const auto& r : m.references) refs.emplace_back(r);
    o["references"] = std::move(refs);
    o["content_type"] = m.content_type;
    o["has_attachment"] = m.has_attachment;
    o["thread"] = nullptr;
    return o;
}

core::result<std::vector<folder_info>, mail_error> cached_folders(mailbox& box, imap_session& s) {
    if (!box.folder_cache()) {
        auto list = s.folders();
        if (!list) return core::fail(list.error());
        box.folder_cache() = std::move(*list);
    }
    return *box.folder_cache();
}

core::result<std::optional<std::string>, mail_error> special_folder(mailbox& box, imap_session& s,
                                                                    special_use use) {
    auto list = cached_folders(box, s);
    if (!list) return core::fail(list.error());
    for (const auto& f : *list) {
        if (f.use == use) return std::optional<std::string>(f.path);
    }
    return std::optional<std::string>{};
}

std::string own_address(const call& c) {
    if (auto external = c.service.external_email(c.login.id)) return *external;
    return address_of(c.login.username, c.service.settings().domain);
}

core::result<folder_info, mail_error> find_folder(mailbox& box, imap_session& s,
                                                  std::string_view path) {
    auto list = cached_folders(box, s);
    if (!list) return core::fail(list.error());
    auto it = std::find_if(list->begin(), list->end(),
                           [&](const folder_info& f) { return f.path == path; });
    if (it == list->end()) return core::fail(mail_error::folder_not_found);
    return *it;
}

namespace {

http::response method_not_allowed(std::string_view allow, unsigned version) {
    auto res = http::error_response(status::method_not_allowed, "method_not_allowed",
                                    "This method is not allowed here.", version);
    res.set(http::beast_http::field::allow, allow);
    return res;
}

}  // namespace
}  // namespace detail

boost::asio::awaitable<http::response> mail_routes::handle(http::request& req,
                                                           std::string_view path,
                                                           http::server_context& ctx) {
    using namespace detail;
    auto login = http::authenticate_request(req, ctx);
    if (!login) co_return http::error_response(auth::auth_error::not_authenticated, req.version());
    ++service_.metrics().mail_requests_total;
    if (auto wait = service_.acquire_call(login->userid)) {
        ++service_.metrics().mail_errors_total;
        auto res = error_response(mail_error::rate_limited, req.version());
        res.set(http::beast_http::field::retry_after,
                std::to_string(std::max<long>(1, wait->count())));
        co_return res;
    }
    const verb method = req.method();
    const std::string_view name = path.substr(std::string_view("/api/v1/mail").size());
    struct route {
        std::string_view name;
        verb method;
        route_result (*run)(call&);
    };
    static constexpr route routes[] = {
        {"/status", verb::get, &status_of},
        {"/folders", verb::get, &list_folders},
        {"/folders", verb::post, &create_folder},
        {"/folders/rename", verb::post, &rename_folder},
        {"/folders/delete", verb::post, &delete_folder},
        {"/folders/subscribe", verb::post, &subscribe_folder},
        {"/messages", verb::get, &list_messages},
        {"/message", verb::get, &raw_message},
        {"/flags", verb::post, &set_flags},
        {"/move", verb::post, &move_messages},
        {"/delete", verb::post, &delete_messages},
        {"/empty", verb::post, &empty_folder},
        {"/mark-read", verb::post, &mark_read},
        {"/append", verb::post, &append},
        {"/send", verb::post, &send},
        {"/account", verb::put, &put_account},
        {"/account", verb::delete_, &delete_account},
    };
    const route* found = nullptr;
    std::string allow;
    for (const auto& r : routes) {
        if (r.name != name) continue;
        if (!allow.empty()) allow += ", ";
        allow += std::string(http::beast_http::to_string(r.method));
        if (r.method == method) found = &r;
    }
    if (allow.empty()) {
        co_return http::error_response(status::not_found, "not_found", "Nothing here.",
                                       req.version());
    }
    if (found == nullptr) co_return method_not_allowed(allow, req.version());
    auto box = service_.mailbox_for(*login);
    if (!box) {
        ++service_.metrics().mail_errors_total;
        co_return error_response(box.error(), req.version());
    }
    call c{req, *login, service_, std::move(*box)};
    auto res = co_await found->run(c);
    if (res.result_int() >= 400) ++service_.metrics().mail_errors_total;
    co_return res;
}

}  // namespace secms::mail

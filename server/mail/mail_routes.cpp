#include "server/mail/mail_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

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

namespace {

bool is_inbox(std::string_view path) {
    return path.size() == 5 && (path[0] == 'I' || path[0] == 'i') &&
           std::equal(path.begin(), path.end(), "INBOX", [](char a, char b) {
               return std::toupper(static_cast<unsigned char>(a)) == b;
           });
}

// Rename and delete: refused for INBOX and special-use folders, and for unknown ones.
core::status<mail_error> check_changeable(mailbox& box, imap_session& s, std::string_view path) {
    if (is_inbox(path)) return core::fail(mail_error::folder_protected);
    auto list = cached_folders(box, s);
    if (!list) return core::fail(list.error());
    auto it = std::find_if(list->begin(), list->end(),
                           [&](const folder_info& f) { return f.path == path; });
    if (it == list->end()) return core::fail(mail_error::folder_not_found);
    if (it->use != special_use::none) return core::fail(mail_error::folder_protected);
    return core::ok;
}

http::response no_content(const call& c) {
    return http::empty_response(status::no_content, c.version());
}

template <class R>
http::response answer_error(const R& r, const call& c) {
    return error_response(r.error(), c.version());
}

route_result list_folders(call& c) {
    auto box = c.box;
    auto listed = co_await box->run([&](imap_session& s) {
        box->folder_cache().reset();  // counts change all the time: always fresh here
        return cached_folders(*box, s);
    });
    if (!listed) co_return answer_error(listed, c);
    json::array folders;
    for (const auto& f : *listed) folders.push_back(folder_json(f));
    json::object out;
    out["folders"] = std::move(folders);
    co_return http::json_response(status::ok, out, c.version());
}

route_result create_folder(call& c) {
    auto body = read_json(c.req);
    if (!body) co_return error_response(body.error(), c.version());
    auto path = string_field(*body, "path");
    if (!path || !acceptable_folder(*path))
        co_return error_response(mail_error::bad_request, c.version());
    if (reserved_folder_name(*path)) {
        co_return error_response(mail_error::bad_request, c.version(), reserved_folder_message);
    }
    auto box = c.box;
    auto made = co_await box->run([&](imap_session& s) -> core::result<folder_info, mail_error> {
        box->invalidate();
        if (is_inbox(*path)) return core::fail(mail_error::folder_exists);
        if (auto done = s.create_folder(*path); !done) return core::fail(done.error());
        (void)s.subscribe(*path, true);
        auto list = cached_folders(*box, s);
        if (!list) return core::fail(list.error());
        for (const auto& f : *list) {
            if (f.path == *path) return f;
        }
        folder_info f;
        f.path = *path;
        f.name = *path;
        return f;
    });
    if (!made) co_return answer_error(made, c);
    json::object out;
    out["folder"] = folder_json(*made);
    co_return http::json_response(status::created, out, c.version());
}

route_result rename_folder(call& c) {
    auto body = read_json(c.req);
    if (!body) co_return error_response(body.error(), c.version());
    auto path = string_field(*body, "path");
    auto next = string_field(*body, "new_path");
    if (!path || !next || !acceptable_folder(*path) || !acceptable_folder(*next) || is_inbox(*next))
        co_return error_response(mail_error::bad_request, c.version());
    if (reserved_folder_name(*next)) {
        co_return error_response(mail_error::bad_request, c.version(), reserved_folder_message);
    }
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        auto allowed = check_changeable(*box, s, *path);
        box->invalidate();
        if (!allowed) return allowed;
        return s.rename_folder(*path, *next);
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

route_result delete_folder(call& c) {
    auto body = read_json(c.req);
    if (!body) co_return error_response(body.error(), c.version());
    auto path = string_field(*body, "path");
    if (!path || !acceptable_folder(*path))
        co_return error_response(mail_error::bad_request, c.version());
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        auto allowed = check_changeable(*box, s, *path);
        box->invalidate();
        if (!allowed) return allowed;
        return s.delete_folder(*path);
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

route_result subscribe_folder(call& c) {
    auto body = read_json(c.req);
    if (!body) co_return error_response(body.error(), c.version());
    auto path = string_field(*body, "path");
    auto* on = body->if_contains("subscribed");
    if (!path || !acceptable_folder(*path) || on == nullptr || !on->is_bool())
        co_return error_response(mail_error::bad_request, c.version());
    bool subscribed = on->as_bool();
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) {
        box->invalidate();
        return s.subscribe(*path, subscribed);
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

std::string list_key(const list_request& r) {
    const auto& q = r.query;
    std::string key = r.folder;
    auto add = [&key](std::string_view part) {
        key += '\0';
        key += std::to_string(part.size());
        key += ':';
        key += part;
    };
    add(std::to_string(static_cast<int>(r.sort)));
    add(r.descending ? "d" : "a");
    add(r.threads ? "t" : "f");
    for (const auto* s : {&q.quick, &q.from, &q.to, &q.subject, &q.body, &q.text}) add(*s);
    add(q.since.value_or(""));
    add(q.before.value_or(""));
    for (const auto& f : q.flags) add(f);
    return key;
}

struct page {
    std::uint32_t uidvalidity = 0;
    std::size_t total = 0;
    std::vector<message_summary> messages;
    std::unordered_map<std::uint32_t, json::object> threads;  // uid → thread object
};

core::result<page, mail_error> read_page(mailbox& box, imap_session& s, const list_request& r) {
    auto selected = s.select(r.folder);
    if (!selected) return core::fail(selected.error());
    const auto now = std::chrono::steady_clock::now();
    // IDLE tells changes of INBOX while a socket is open; otherwise a short life.
    const auto ttl = box.watched() ? std::chrono::seconds(300) : std::chrono::seconds(5);
    const auto key = list_key(r);
    auto& lists = box.lists();
    auto it = lists.find(key);
    if (it == lists.end() || it->second.uidvalidity != selected->uidvalidity ||
        now - it->second.made > ttl) {
        cached_list fresh;
        fresh.uidvalidity = selected->uidvalidity;
        fresh.made = now;
        auto uids = s.sorted_uids(r.sort, r.descending, r.query);
        if (!uids) return core::fail(uids.error());
        if (r.threads) {
            if (uids->size() > max_threaded_messages) return core::fail(mail_error::bad_request);
            std::vector<thread_input> inputs;
            inputs.reserve(uids->size());
            constexpr std::size_t chunk = 1000;
            for (std::size_t i = 0; i < uids->size(); i += chunk) {
                auto part = std::span<const std::uint32_t>(*uids).subspan(
                    i, std::min(chunk, uids->size() - i));
                auto summaries = s.summaries(part);
                if (!summaries) return core::fail(summaries.error());
                for (auto& m : *summaries) {
                    inputs.push_back({m.uid, std::move(m.message_id), std::move(m.in_reply_to),
                                      std::move(m.references), m.date_unix});
                }
            }
            fresh.conversations = build_threads(inputs);
        } else {
            fresh.uids = std::move(*uids);
        }
        it = lists.insert_or_assign(key, std::move(fresh)).first;
    }
    const cached_list& list = it->second;
    page out;
    out.uidvalidity = list.uidvalidity;
    std::vector<std::uint32_t> wanted;
    if (r.threads) {
        out.total = list.conversations.size();
        for (std::size_t i = r.offset; i < list.conversations.size() && i < r.offset + r.limit;
             ++i) {
            const auto& conv = list.conversations[i];
            for (const auto& member : conv.members) {
                wanted.push_back(member.uid);
                json::object t;
                t["id"] = conv.id;
                t["depth"] = member.depth;
                t["count"] = conv.members.size();
                out.threads[member.uid] = std::move(t);
            }
        }
    } else {
        out.total = list.uids.size();
        for (std::size_t i = r.offset; i < list.uids.size() && i < r.offset + r.limit; ++i)
            wanted.push_back(list.uids[i]);
    }
    if (!wanted.empty()) {
        auto summaries = s.summaries(wanted);
        if (!summaries) return core::fail(summaries.error());
        out.messages = std::move(*summaries);
    }
    return out;
}

route_result list_messages(call& c) {
    auto parsed = parse_list_request(c.req.target());
    if (!parsed) co_return error_response(parsed.error(), c.version());
    auto box = c.box;
    const list_request& r = *parsed;
    auto got = co_await box->run([&](imap_session& s) { return read_page(*box, s, r); });
    if (!got) co_return answer_error(got, c);
    json::array messages;
    for (const auto& m : got->messages) {
        auto o = summary_json(m);
        if (auto t = got->threads.find(m.uid); t != got->threads.end())
            o.as_object()["thread"] = std::move(t->second);
        messages.push_back(std::move(o));
    }
    json::object out;
    out["folder"] = r.folder;
    out["uidvalidity"] = got->uidvalidity;
    out["total"] = got->total;
    out["offset"] = r.offset;
    out["messages"] = std::move(messages);
    co_return http::json_response(status::ok, out, c.version());
}

route_result raw_message(call& c) {
    auto folders = query_values(c.req.target(), "folder");
    auto uids = query_values(c.req.target(), "uid");
    if (!folders || !uids || folders->size() != 1 || uids->size() != 1 ||
        !acceptable_folder(folders->front())) {
        co_return error_response(mail_error::bad_request, c.version());
    }
    std::uint32_t uid = 0;
    const auto& text = uids->front();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
    if (ec != std::errc{} || end != text.data() + text.size() || uid == 0)
        co_return error_response(mail_error::bad_request, c.version());
    const std::string folder = folders->front();
    const std::size_t max = c.service.settings().max_message_bytes * 2;
    auto box = c.box;
    auto raw = co_await box->run([&](imap_session& s) -> core::result<std::string, mail_error> {
        if (auto selected = s.select(folder); !selected) return core::fail(selected.error());
        return s.raw_message(uid, max);
    });
    if (!raw) co_return answer_error(raw, c);
    http::response res{status::ok, c.version()};
    res.set(http::beast_http::field::content_type, "message/rfc822");
    res.set(http::beast_http::field::content_disposition,
            "attachment; filename=\"message-" + std::to_string(uid) + ".eml\"");
    res.body() = std::move(*raw);
    res.prepare_payload();
    co_return res;
}

struct uid_body {
    std::string folder;
    std::vector<std::uint32_t> uids;
    json::object object;
};

core::result<uid_body, mail_error> read_uid_body(const http::request& req, bool with_uids) {
    auto body = read_json(req);
    if (!body) return core::fail(body.error());
    uid_body out;
    auto folder = string_field(*body, "folder");
    if (!folder || !acceptable_folder(*folder)) return core::fail(mail_error::bad_request);
    out.folder = std::move(*folder);
    if (with_uids) {
        auto uids = uid_list(body->if_contains("uids"));
        if (!uids) return core::fail(uids.error());
        out.uids = std::move(*uids);
    }
    out.object = std::move(*body);
    return out;
}

route_result set_flags(call& c) {
    auto body = read_uid_body(c.req, true);
    if (!body) co_return error_response(body.error(), c.version());
    auto add = flag_list(body->object.if_contains("add"));
    auto remove = flag_list(body->object.if_contains("remove"));
    if (!add || !remove || (add->empty() && remove->empty()))
        co_return error_response(mail_error::bad_request, c.version());
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        return s.store_flags(body->uids, *add, *remove);
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

route_result move_messages(call& c) {
    auto body = read_uid_body(c.req, true);
    if (!body) co_return error_response(body.error(), c.version());
    auto to = string_field(body->object, "to");
    auto* copy = body->object.if_contains("copy");
    if (!to || !acceptable_folder(*to) || (copy != nullptr && !copy->is_bool()))
        co_return error_response(mail_error::bad_request, c.version());
    const bool copying = copy != nullptr && copy->as_bool();
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        return s.move(body->uids, *to, copying);
    });
    if (!done && done.error() == mail_error::quota_exceeded) co_return co_await quota_error(c);
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

core::status<mail_error> expunge_all(imap_session& s, std::span<const std::uint32_t> uids) {
    static const std::vector<std::string> deleted{"\\Deleted"};
    for (std::size_t i = 0; i < uids.size(); i += max_uids_per_request) {
        auto part = uids.subspan(i, std::min(max_uids_per_request, uids.size() - i));
        if (auto done = s.store_flags(part, deleted, {}); !done) return done;
        if (auto done = s.expunge(part); !done) return done;
    }
    return core::ok;
}

route_result delete_messages(call& c) {
    auto body = read_uid_body(c.req, true);
    if (!body) co_return error_response(body.error(), c.version());
    // permanent: expunged where they are, in any folder (the page replaces a saved draft by its
    // newer version this way: the old one must not pile up in Trash).
    auto* permanent_field = body->object.if_contains("permanent");
    if (permanent_field != nullptr && !permanent_field->is_bool())
        co_return error_response(mail_error::bad_request, c.version());
    const bool permanent = permanent_field != nullptr && permanent_field->as_bool();
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        if (permanent) {
            if (auto selected = s.select(body->folder); !selected)
                return core::fail(selected.error());
            return expunge_all(s, body->uids);
        }
        auto trash = special_folder(*box, s, special_use::trash);
        if (!trash) return core::fail(trash.error());
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        if (*trash && **trash != body->folder) return s.move(body->uids, **trash, false);
        return expunge_all(s, body->uids);
    });
    if (!done && done.error() == mail_error::quota_exceeded) co_return co_await quota_error(c);
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

route_result empty_folder(call& c) {
    auto body = read_uid_body(c.req, false);
    if (!body) co_return error_response(body.error(), c.version());
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        auto list = cached_folders(*box, s);
        if (!list) return core::fail(list.error());
        auto it = std::find_if(list->begin(), list->end(),
                               [&](const folder_info& f) { return f.path == body->folder; });
        if (it == list->end()) return core::fail(mail_error::folder_not_found);
        if (it->use != special_use::trash && it->use != special_use::junk)
            return core::fail(mail_error::folder_protected);
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        auto uids = s.sorted_uids(sort_key::arrival, false, {});
        if (!uids) return core::fail(uids.error());
        return expunge_all(s, *uids);
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

route_result mark_read(call& c) {
    auto body = read_uid_body(c.req, false);
    if (!body) co_return error_response(body.error(), c.version());
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        search_query unseen;
        unseen.flags.push_back("unseen");
        auto uids = s.sorted_uids(sort_key::arrival, false, unseen);
        if (!uids) return core::fail(uids.error());
        static const std::vector<std::string> seen{"\\Seen"};
        std::span<const std::uint32_t> all(*uids);
        for (std::size_t i = 0; i < all.size(); i += max_uids_per_request) {
            auto part = all.subspan(i, std::min(max_uids_per_request, all.size() - i));
            if (auto stored = s.store_flags(part, seen, {}); !stored) return stored;
        }
        return core::ok;
    });
    if (!done) co_return answer_error(done, c);
    co_return no_content(c);
}

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

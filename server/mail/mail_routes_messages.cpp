// The message routes: the list (sorted, searched, threaded, paged), the raw message, flags,
// move and copy, delete, empty, mark read.
#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "server/mail/mail_routes_internal.hpp"

namespace secms::mail::detail {

namespace {

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
    if (it != lists.end()) {
        // The push from IDLE may still be on its way: ask the server for its counts now (a
        // list made before an arrival or an expunge is made again).
        selected = s.refresh_selected();
        if (!selected) return core::fail(selected.error());
    }
    if (it == lists.end() || it->second.uidvalidity != selected->uidvalidity ||
        it->second.exists != selected->exists || it->second.uidnext != selected->uidnext ||
        now - it->second.made > ttl) {
        cached_list fresh;
        fresh.uidvalidity = selected->uidvalidity;
        fresh.exists = selected->exists;
        fresh.uidnext = selected->uidnext;
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

// Calls each(part) for the UIDs in parts of at most max_uids_per_request; stops at a failure.
template <class Each>
core::status<mail_error> per_chunk(std::span<const std::uint32_t> uids, Each each) {
    for (std::size_t i = 0; i < uids.size(); i += max_uids_per_request) {
        auto done = each(uids.subspan(i, std::min(max_uids_per_request, uids.size() - i)));
        if (!done) return done;
    }
    return core::ok;
}

core::status<mail_error> expunge_all(imap_session& s, std::span<const std::uint32_t> uids) {
    static const std::vector<std::string> deleted{"\\Deleted"};
    return per_chunk(uids, [&](std::span<const std::uint32_t> part) -> core::status<mail_error> {
        if (auto done = s.store_flags(part, deleted, {}); !done) return done;
        return s.expunge(part);
    });
}

}  // namespace

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
    co_return no_content_or_error(done, c);
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
    co_return no_content_or_error(done, c);
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
    co_return no_content_or_error(done, c);
}

route_result empty_folder(call& c) {
    auto body = read_uid_body(c.req, false);
    if (!body) co_return error_response(body.error(), c.version());
    auto box = c.box;
    auto done = co_await box->run([&](imap_session& s) -> core::status<mail_error> {
        box->invalidate();
        auto folder = find_folder(*box, s, body->folder);
        if (!folder) return core::fail(folder.error());
        if (folder->use != special_use::trash && folder->use != special_use::junk)
            return core::fail(mail_error::folder_protected);
        if (auto selected = s.select(body->folder); !selected) return core::fail(selected.error());
        auto uids = s.sorted_uids(sort_key::arrival, false, {});
        if (!uids) return core::fail(uids.error());
        return expunge_all(s, *uids);
    });
    co_return no_content_or_error(done, c);
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
        return per_chunk(*uids, [&](std::span<const std::uint32_t> part) {
            return s.store_flags(part, seen, {});
        });
    });
    co_return no_content_or_error(done, c);
}

}  // namespace secms::mail::detail

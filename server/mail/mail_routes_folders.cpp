// The folder routes: list, create, rename, delete, subscribe.
#include <algorithm>
#include <cctype>

#include "server/mail/mail_routes_internal.hpp"

namespace secms::mail::detail {

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
    auto folder = find_folder(box, s, path);
    if (!folder) return core::fail(folder.error());
    if (folder->use != special_use::none) return core::fail(mail_error::folder_protected);
    return core::ok;
}

}  // namespace

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
    co_return no_content_or_error(done, c);
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
    co_return no_content_or_error(done, c);
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
    co_return no_content_or_error(done, c);
}

}  // namespace secms::mail::detail

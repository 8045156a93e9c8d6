// Shared by the mail route files only.
#pragma once

#include <boost/json.hpp>

#include "server/auth/login_sessions.hpp"
#include "server/http/responses.hpp"
#include "server/mail/mail_request.hpp"
#include "server/mail/mail_routes.hpp"

namespace secms::mail::detail {

namespace json = boost::json;
using http::beast_http::status;
using route_result = boost::asio::awaitable<http::response>;

struct call {
    http::request& req;
    const auth::login_session& login;
    mail_service& service;
    std::shared_ptr<mailbox> box;
    unsigned version() const { return req.version(); }
};

// The JSON object of a request body (application/json, ≤ 64 KiB), or bad_request.
core::result<json::object, mail_error> read_json(const http::request& req);
std::optional<std::string> string_field(const json::object& o, std::string_view key);

json::value folder_json(const folder_info& f);
json::value summary_json(const message_summary& m);
std::string_view special_use_name(special_use u);

// The folder of a special use from the (cached) folder list, if the server has one.
core::result<std::optional<std::string>, mail_error> special_folder(mailbox& box, imap_session& s,
                                                                    special_use use);
core::result<std::vector<folder_info>, mail_error> cached_folders(mailbox& box, imap_session& s);

// The folder at path from the (cached) folder list, or folder_not_found.
core::result<folder_info, mail_error> find_folder(mailbox& box, imap_session& s,
                                                  std::string_view path);

// The user's own address: the external account's email, or <username>@<domain>.
std::string own_address(const call& c);

inline http::response no_content(const call& c) {
    return http::empty_response(status::no_content, c.version());
}
template <class R>
http::response answer_error(const R& r, const call& c) {
    return error_response(r.error(), c.version());
}
// 204 when done, else the error's answer.
inline http::response no_content_or_error(const core::status<mail_error>& done, const call& c) {
    return done ? no_content(c) : answer_error(done, c);
}

// mail_routes_folders.cpp
route_result list_folders(call& c);
route_result create_folder(call& c);
route_result rename_folder(call& c);
route_result delete_folder(call& c);
route_result subscribe_folder(call& c);
// mail_routes_messages.cpp
route_result list_messages(call& c);
route_result raw_message(call& c);
route_result set_flags(call& c);
route_result move_messages(call& c);
route_result delete_messages(call& c);
route_result empty_folder(call& c);
route_result mark_read(call& c);

// mail_routes_send.cpp
route_result send(call& c);
route_result append(call& c);
// mail_routes_account.cpp
route_result put_account(call& c);
route_result delete_account(call& c);
route_result status_of(call& c);
// 507 quota_exceeded naming how full the mailbox is (a GETQUOTAROOT after the refusal).
route_result quota_error(call& c);

}  // namespace secms::mail::detail

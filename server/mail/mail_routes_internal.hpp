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

// The user's own address: the external account's email, or <username>@<domain>.
std::string own_address(const call& c);

route_result send(call& c);
route_result append(call& c);
route_result put_account(call& c);
route_result delete_account(call& c);
route_result status_of(call& c);
// 507 quota_exceeded naming how full the mailbox is (a GETQUOTAROOT after the refusal).
route_result quota_error(call& c);

}  // namespace secms::mail::detail

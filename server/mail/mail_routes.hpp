// The HTTP API of the mail service, /api/v1/mail/… (docs/api.md "Mail"): every endpoint
// authenticates the login, takes a token of the user's call limit, and runs its IMAP work as one
// job of the user's mailbox. Errors map to statuses in one place (status_for).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "server/http/server_context.hpp"
#include "server/mail/mail_error.hpp"
#include "server/mail/mail_service.hpp"

namespace secms::mail {

// The single mapping of mail errors to HTTP statuses.
http::beast_http::status status_for(mail_error e) noexcept;
http::response error_response(mail_error e, unsigned version, std::string_view detail = {});

class mail_routes final : public http::api_module {
  public:
    explicit mail_routes(mail_service& service) : service_(service) {}
    boost::asio::awaitable<http::response> handle(http::request& req, std::string_view path,
                                                  http::server_context& ctx) override;

  private:
    mail_service& service_;
};

}  // namespace secms::mail

// Building responses: JSON bodies and the one error shape of the API,
// {"error":{"code":"…","message":"…"}} — never a stack trace or internal detail.
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "server/auth/auth_error.hpp"
#include "server/http/types.hpp"

namespace secms::http {

response json_response(beast_http::status status, const boost::json::value& body, unsigned version);
response error_response(beast_http::status status, std::string_view code, std::string_view message,
                        unsigned version);
response empty_response(beast_http::status status, unsigned version);

// The single mapping from auth errors to HTTP status codes.
beast_http::status status_for(auth::auth_error e) noexcept;
response error_response(auth::auth_error e, unsigned version);

}  // namespace secms::http

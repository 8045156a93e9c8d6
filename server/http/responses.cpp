#include "server/http/responses.hpp"

#include <boost/json/serialize.hpp>

namespace secms::http {

response json_response(beast_http::status status, const boost::json::value& body,
                       unsigned version) {
    response res{status, version};
    res.set(beast_http::field::content_type, "application/json");
    res.body() = boost::json::serialize(body);
    res.prepare_payload();
    return res;
}

response error_response(beast_http::status status, std::string_view code, std::string_view message,
                        unsigned version) {
    boost::json::object error;
    error["code"] = code;
    error["message"] = message;
    boost::json::object body;
    body["error"] = std::move(error);
    return json_response(status, body, version);
}

response empty_response(beast_http::status status, unsigned version) {
    response res{status, version};
    res.prepare_payload();
    return res;
}

beast_http::status status_for(auth::auth_error e) noexcept {
    using auth::auth_error;
    switch (e) {
        case auth_error::invalid_username:
        case auth_error::invalid_password:
            return beast_http::status::bad_request;
        case auth_error::username_taken:
            return beast_http::status::conflict;
        case auth_error::invalid_credentials:
        case auth_error::not_authenticated:
            return beast_http::status::unauthorized;
        case auth_error::account_disabled:
            return beast_http::status::forbidden;
        case auth_error::rate_limited:
            return beast_http::status::too_many_requests;
        case auth_error::unavailable:
        case auth_error::mail_unavailable:
            return beast_http::status::service_unavailable;
        case auth_error::storage_full:
            return beast_http::status::insufficient_storage;
    }
    return beast_http::status::internal_server_error;
}

response error_response(auth::auth_error e, unsigned version) {
    return error_response(status_for(e), auth::code(e), auth::message(e), version);
}

}  // namespace secms::http

// The HTTP message types every module of the server speaks.
#pragma once

#include <boost/beast/http.hpp>

namespace secms::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;

}  // namespace secms::http

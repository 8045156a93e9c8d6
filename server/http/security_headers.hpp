// The response headers of DESIGN.md §8, set on every response the server sends: pages, assets,
// API answers, errors and redirects alike.
#pragma once

#include <string_view>

#include "server/http/types.hpp"

namespace secms::http {

// script/style from self only, no inline code, no eval; Trusted Types enforced for script sinks.
inline constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'; require-trusted-types-for 'script'";

inline constexpr std::string_view strict_transport_security =
    "max-age=63072000; includeSubDomains; preload";

inline constexpr std::string_view permissions_policy =
    "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), "
    "usb=(), serial=(), bluetooth=(), hid=(), midi=(), accelerometer=(), gyroscope=(), "
    "magnetometer=(), interest-cohort=()";

// Logout and account deletion: the browser drops its cache, cookies and storage for the origin.
inline constexpr std::string_view clear_site_data = "\"cache\", \"cookies\", \"storage\"";

void apply_security_headers(beast_http::response_header<>& header);

}  // namespace secms::http

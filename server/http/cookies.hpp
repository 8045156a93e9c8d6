// The login cookie. "__Host-" prefix (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain, so no
// subdomain or plain-HTTP page can set or overwrite it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace secms::http {

inline constexpr std::string_view session_cookie_name = "__Host-sid";

// Finds the session cookie's value in a Cookie header.
std::optional<std::string_view> find_session_cookie(std::string_view cookie_header);

std::string session_cookie(std::string_view token);
std::string expired_session_cookie();

}  // namespace secms::http

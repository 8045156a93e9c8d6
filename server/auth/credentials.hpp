// Username and password rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "server/auth/auth_error.hpp"
#include "server/core/result.hpp"

namespace secms::auth {

inline constexpr std::size_t min_username_length = 3;
inline constexpr std::size_t max_username_length = 32;
// NIST SP 800-63B §5.1.1.2: at least 8; the project asks for 10. The upper bound keeps Argon2id
// input bounded and stops hashing-cost denial of service.
inline constexpr std::size_t min_password_length = 10;
inline constexpr std::size_t max_password_length = 256;

// 3–32 characters of ASCII letters, digits, '.', '_' and '-', starting with a letter or digit.
// ASCII only, so names cannot impersonate each other with look-alike Unicode characters.
core::status<auth_error> check_username(std::string_view username);

// 10–256 characters (counted as Unicode code points; the bytes must be valid UTF-8).
core::status<auth_error> check_password(std::string_view password);

// The key under which names are unique: ASCII lower case.
std::string username_key(std::string_view username);

}  // namespace secms::auth

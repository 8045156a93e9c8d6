#include "server/auth/credentials.hpp"

#include <cctype>
#include <cstdint>
#include <optional>

namespace secms::auth {

namespace {

bool is_name_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '.' || c == '_' || c == '-';
}

// Counts code points; nullopt if the bytes are not well-formed UTF-8 (RFC 3629 §4).
std::optional<std::size_t> utf8_length(std::string_view s) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return std::nullopt;
        }
        if (i + extra >= s.size()) return std::nullopt;  // truncated sequence
        for (std::size_t k = 1; k <= extra; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return std::nullopt;
        }
        if (cp == 0) return std::nullopt;  // a NUL inside a password is a client bug
        i += extra + 1;
        ++count;
    }
    return count;
}

}  // namespace

core::status<auth_error> check_username(std::string_view username) {
    if (username.size() < min_username_length || username.size() > max_username_length) {
        return core::fail(auth_error::invalid_username);
    }
    if (std::isalnum(static_cast<unsigned char>(username.front())) == 0) {
        return core::fail(auth_error::invalid_username);
    }
    for (char c : username) {
        if (!is_name_char(c)) return core::fail(auth_error::invalid_username);
    }
    return core::ok;
}

core::status<auth_error> check_password(std::string_view password) {
    if (password.size() > max_password_length * 4) return core::fail(auth_error::invalid_password);
    auto length = utf8_length(password);
    if (!length || *length < min_password_length || *length > max_password_length) {
        return core::fail(auth_error::invalid_password);
    }
    return core::ok;
}

std::string username_key(std::string_view username) {
    std::string key(username);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return key;
}

}  // namespace secms::auth

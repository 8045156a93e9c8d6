#include "server/store/user_store.hpp"

#include "server/store/detail.hpp"

namespace secms::store {

std::string_view to_string(role r) noexcept {
    switch (r) {
        case role::user:
            return "user";
        case role::moderator:
            return "moderator";
        case role::admin:
            return "admin";
    }
    return "user";  // unreachable: every enumerator is handled above
}

std::optional<role> parse_role(std::string_view s) noexcept {
    if (s == "user") return role::user;
    if (s == "moderator") return role::moderator;
    if (s == "admin") return role::admin;
    return std::nullopt;
}

std::string_view message(store_error e) noexcept {
    switch (e) {
        case store_error::not_found:
            return "no such user";
        case store_error::username_taken:
            return "that username is taken already";
        case store_error::unavailable:
            return "the user database could not be opened, read or written";
        case store_error::corrupt:
            return "the user database is not in a form this version understands";
        case store_error::full:
            return "the disk holding the user database is full";
    }
    return "unknown user store error";
}

namespace detail {

std::string username_key(std::string_view username) {
    std::string key(username);
    for (char& c : key) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return key;
}

}  // namespace detail

}  // namespace secms::store

#include "server/auth/auth_error.hpp"

namespace secms::auth {

std::string_view code(auth_error e) noexcept {
    switch (e) {
        case auth_error::invalid_username:
            return "invalid_username";
        case auth_error::invalid_password:
            return "invalid_password";
        case auth_error::username_taken:
            return "username_taken";
        case auth_error::invalid_credentials:
            return "invalid_credentials";
        case auth_error::account_disabled:
            return "account_disabled";
        case auth_error::rate_limited:
            return "rate_limited";
        case auth_error::not_authenticated:
            return "not_authenticated";
        case auth_error::unavailable:
            return "unavailable";
        case auth_error::mail_unavailable:
            return "mail_unavailable";
        case auth_error::storage_full:
            return "storage_full";
    }
    return "unavailable";
}

std::string_view message(auth_error e) noexcept {
    switch (e) {
        case auth_error::invalid_username:
            return "Usernames are 3 to 32 characters: letters, digits, '.', '_' or '-', starting "
                   "with a letter or digit.";
        case auth_error::invalid_password:
            return "Passwords are 10 to 256 characters long.";
        case auth_error::username_taken:
            return "That username is already taken.";
        case auth_error::invalid_credentials:
            return "Wrong username or password.";
        case auth_error::account_disabled:
            return "This account has been disabled by an administrator.";
        case auth_error::rate_limited:
            return "Too many attempts. Please wait before trying again.";
        case auth_error::not_authenticated:
            return "Please log in.";
        case auth_error::unavailable:
            return "The service is temporarily unavailable.";
        case auth_error::mail_unavailable:
            return "The mail server is unreachable; try again in a few minutes.";
        case auth_error::storage_full:
            return "The server is out of disk space and cannot save anything new; existing "
                   "accounts can still log in.";
    }
    return "The service is temporarily unavailable.";
}

}  // namespace secms::auth

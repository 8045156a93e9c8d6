// The closed set of expected failures of the auth module; the HTTP layer maps each to a status.
#pragma once

#include <string_view>

namespace secms::auth {

enum class auth_error {
    invalid_username,     // breaks the username rules
    invalid_password,     // breaks the password rules
    username_taken,       // the name is in use (case-insensitively)
    invalid_credentials,  // unknown user or wrong password: deliberately one error
    account_disabled,     // an administrator disabled the account
    rate_limited,         // too many attempts from this address or for this account
    not_authenticated,    // no valid login session
    unavailable,          // the user database or the key store failed
    mail_unavailable,     // a free name's mailbox could not be erased: registration refused
    storage_full,         // the disk under the user database is full: nothing new is saved
};

// Stable machine code for the API ("invalid_username", …).
std::string_view code(auth_error e) noexcept;
// A sentence the user may read; never names which half of a credential was wrong.
std::string_view message(auth_error e) noexcept;

}  // namespace secms::auth

// The closed set of expected failures of the mail module; the HTTP layer maps each to a status.
#pragma once

#include <string_view>

namespace secms::mail {

enum class mail_error {
    not_enabled,        // mail is switched off in the configuration
    bad_request,        // a malformed argument (folder name, address, header block, …)
    folder_not_found,   // the folder does not exist (or cannot be selected)
    message_not_found,  // no message with that UID in the folder
    folder_protected,   // INBOX or a special-use folder cannot be renamed or deleted
    folder_exists,      // a folder with that name exists already
    too_large,          // the message is bigger than the configured limit
    rate_limited,       // too many requests or messages for this user
    from_not_allowed,   // the From address is not the user's own
    unknown_recipient,  // a local-domain recipient is not a user
    no_smarthost,       // mail to another domain but no smarthost configured
    send_failed,        // the SMTP/LMTP server refused the message
    unavailable,        // the mail server is down or refused the login
    timeout,            // a command took longer than the configured timeout
    external_refused,   // an external server's address is private, or its certificate is bad
    login_failed,       // the server refused the credentials
    protocol,           // the server answered something the client cannot use
    quota_exceeded,     // the mailbox is full (the server answered NO [OVERQUOTA])
};

// Stable machine code for the API ("folder_not_found", …; unavailable is "mail_unavailable").
std::string_view code(mail_error e) noexcept;
// A sentence the user may read.
std::string_view message(mail_error e) noexcept;

}  // namespace secms::mail

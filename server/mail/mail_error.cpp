#include "server/mail/mail_error.hpp"

namespace secms::mail {

std::string_view code(mail_error e) noexcept {
    switch (e) {
        case mail_error::not_enabled:
            return "not_enabled";
        case mail_error::bad_request:
            return "bad_request";
        case mail_error::folder_not_found:
            return "folder_not_found";
        case mail_error::message_not_found:
            return "message_not_found";
        case mail_error::folder_protected:
            return "folder_protected";
        case mail_error::folder_exists:
            return "folder_exists";
        case mail_error::too_large:
            return "too_large";
        case mail_error::rate_limited:
            return "rate_limited";
        case mail_error::from_not_allowed:
            return "from_not_allowed";
        case mail_error::unknown_recipient:
            return "unknown_recipient";
        case mail_error::no_smarthost:
            return "no_smarthost";
        case mail_error::send_failed:
            return "send_failed";
        case mail_error::unavailable:
            return "mail_unavailable";
        case mail_error::timeout:
            return "timeout";
        case mail_error::external_refused:
            return "external_refused";
        case mail_error::login_failed:
            return "login_failed";
        case mail_error::protocol:
            return "protocol";
        case mail_error::quota_exceeded:
            return "quota_exceeded";
    }
    return "mail_unavailable";
}

std::string_view message(mail_error e) noexcept {
    switch (e) {
        case mail_error::not_enabled:
            return "Email is not enabled on this server.";
        case mail_error::bad_request:
            return "The request is not valid.";
        case mail_error::folder_not_found:
            return "That folder does not exist.";
        case mail_error::message_not_found:
            return "That message does not exist any more.";
        case mail_error::folder_protected:
            return "The inbox and the special folders cannot be renamed or deleted.";
        case mail_error::folder_exists:
            return "A folder with that name exists already.";
        case mail_error::too_large:
            return "The message is too large.";
        case mail_error::rate_limited:
            return "Too many requests; please wait a moment.";
        case mail_error::from_not_allowed:
            return "You can only send from your own address.";
        case mail_error::unknown_recipient:
            return "A recipient of this server's domain does not exist.";
        case mail_error::no_smarthost:
            return "This server cannot send mail to other domains.";
        case mail_error::send_failed:
            return "The mail server refused the message.";
        case mail_error::unavailable:
            return "The mail server is not reachable; nothing was changed.";
        case mail_error::timeout:
            return "The mail server did not answer in time.";
        case mail_error::external_refused:
            return "That mail server cannot be used (private address or untrusted certificate).";
        case mail_error::login_failed:
            return "The mail server refused the username or password.";
        case mail_error::protocol:
            return "The mail server gave an answer that could not be understood.";
        case mail_error::quota_exceeded:
            return "The mailbox is full; delete mail or empty the Trash.";
    }
    return "The mail server is not reachable; nothing was changed.";
}

}  // namespace secms::mail

#include "server/mail/imap_session.hpp"

namespace secms::mail {

core::result<std::string, mail_error> utf8_to_mutf7(std::string_view) {
    return core::fail(mail_error::bad_request);
}
core::result<std::string, mail_error> mutf7_to_utf8(std::string_view) {
    return core::fail(mail_error::bad_request);
}
bool valid_folder_path(std::string_view, char) {
    return false;
}

}  // namespace secms::mail

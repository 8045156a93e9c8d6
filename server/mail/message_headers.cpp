#include "server/mail/message_headers.hpp"

namespace secms::mail {

core::result<outgoing_headers, mail_error> read_outgoing_headers(std::string_view) {
    return core::fail(mail_error::bad_request);
}
bool valid_address(std::string_view) {
    return false;
}
std::string lower_domain(std::string_view address) {
    return std::string(address);
}
std::string decode_words(std::string_view v) {
    return std::string(v);
}

}  // namespace secms::mail

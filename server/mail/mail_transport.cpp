#include "server/mail/mail_transport.hpp"

namespace secms::mail {

core::result<std::vector<recipient_result>, mail_error> deliver_lmtp(const transport_endpoint&,
                                                                     std::string_view,
                                                                     std::span<const std::string>,
                                                                     std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::result<std::vector<recipient_result>, mail_error> submit_smtp(const transport_endpoint&,
                                                                    std::string_view,
                                                                    std::span<const std::string>,
                                                                    std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> check_smtp_login(const transport_endpoint&) {
    return core::fail(mail_error::unavailable);
}

}  // namespace secms::mail

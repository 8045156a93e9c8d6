#include "server/mail/imap_session.hpp"

namespace secms::mail {

struct imap_connection {};

imap_session::imap_session(std::unique_ptr<imap_connection> connection) noexcept
    : connection_(std::move(connection)) {}
imap_session::~imap_session() = default;
imap_session::imap_session(imap_session&&) noexcept = default;
imap_session& imap_session::operator=(imap_session&&) noexcept = default;

core::result<imap_session, mail_error> imap_session::open(const imap_endpoint&, std::string_view,
                                                          const core::secret_string&) {
    return core::fail(mail_error::unavailable);
}
bool imap_session::alive() const noexcept {
    return false;
}
core::result<std::vector<folder_info>, mail_error> imap_session::folders() {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::create_folder(std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::rename_folder(std::string_view, std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::delete_folder(std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::subscribe(std::string_view, bool) {
    return core::fail(mail_error::unavailable);
}
core::result<select_info, mail_error> imap_session::select(std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::result<std::vector<std::uint32_t>, mail_error> imap_session::sorted_uids(
    sort_key, bool, const search_query&) {
    return core::fail(mail_error::unavailable);
}
core::result<std::vector<message_summary>, mail_error> imap_session::summaries(
    std::span<const std::uint32_t>) {
    return core::fail(mail_error::unavailable);
}
core::result<std::string, mail_error> imap_session::raw_message(std::uint32_t, std::size_t) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::store_flags(std::span<const std::uint32_t>,
                                                   std::span<const std::string>,
                                                   std::span<const std::string>) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::move(std::span<const std::uint32_t>, std::string_view,
                                            bool) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::expunge(std::span<const std::uint32_t>) {
    return core::fail(mail_error::unavailable);
}
core::result<std::optional<std::uint32_t>, mail_error> imap_session::append(
    std::string_view, std::string_view, std::span<const std::string>) {
    return core::fail(mail_error::unavailable);
}
core::result<std::uint32_t, mail_error> imap_session::unseen_count(std::string_view) {
    return core::fail(mail_error::unavailable);
}
core::status<mail_error> imap_session::idle_start() {
    return core::fail(mail_error::unavailable);
}
int imap_session::idle_fd() const noexcept {
    return -1;
}
idle_event imap_session::idle_poll() {
    return idle_event::closed;
}
core::status<mail_error> imap_session::idle_done() {
    return core::fail(mail_error::unavailable);
}
bool imap_session::has_capability(std::string_view) const {
    return false;
}

}  // namespace secms::mail

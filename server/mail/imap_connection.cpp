// IMAP client: connecting (plain, STARTTLS, TLS with the peer verified), login, logout,
// capabilities and the mapping of libetpan errors, timeouts among them.
#include "server/mail/imap_internal.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "server/mail/mail_transport.hpp"
#include "server/mail/tls_verify.hpp"

namespace secms::mail {

using namespace imap_detail;

// ---------------------------------------------------------------------------------------------
// Helpers shared by the imap_*.cpp files.
namespace imap_detail {

char* dup(std::string_view s) {
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out == nullptr) std::abort();
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool safe_argument(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

set_ptr uid_set(std::span<const std::uint32_t> uids) {
    set_ptr set(mailimap_set_new_empty());
    for (const auto uid : uids) mailimap_set_add_single(set.get(), uid);
    return set;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace imap_detail

// ---------------------------------------------------------------------------------------------
mail_error imap_connection::failure(int r, mail_error on_no) {
    switch (r) {
        case MAILIMAP_ERROR_STREAM:
        case MAILIMAP_ERROR_CONNECTION_REFUSED:
        case MAILIMAP_ERROR_FATAL:
        case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: {
            alive = false;
            selected.reset();
            const auto elapsed = std::chrono::steady_clock::now() - command_start;
            return elapsed + std::chrono::milliseconds(500) >= timeout ? mail_error::timeout
                                                                       : mail_error::unavailable;
        }
        case MAILIMAP_ERROR_PARSE:
            alive = false;  // the stream's state is unknown now
            selected.reset();
            return mail_error::protocol;
        case MAILIMAP_ERROR_LOGIN:
            return mail_error::login_failed;
        case MAILIMAP_ERROR_MEMORY:
            return mail_error::unavailable;
        default:
            return over_quota() ? mail_error::quota_exceeded : on_no;
    }
}

bool imap_connection::over_quota() const {
    const auto* info = imap ? imap->imap_response_info : nullptr;
    return info != nullptr && info->rsp_atom != nullptr && upper(info->rsp_atom) == "OVERQUOTA";
}

void imap_connection::load_capabilities() {
    capabilities.clear();
    mailimap_capability_data* raw = nullptr;
    start();
    if (mailimap_capability(imap.get(), &raw) != MAILIMAP_NO_ERROR || raw == nullptr) return;
    const capability_ptr caps(raw);
    for (clistiter* it = clist_begin(caps->cap_list); it != nullptr; it = clist_next(it)) {
        const auto* cap = static_cast<const struct mailimap_capability*>(clist_content(it));
        if (cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name) {
            capabilities.insert(upper(cap->cap_data.cap_name));
        } else if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE && cap->cap_data.cap_auth_type) {
            capabilities.insert("AUTH=" + upper(cap->cap_data.cap_auth_type));
        }
    }
}

core::result<std::string, mail_error> imap_connection::encode_path(std::string_view path) {
    if (!valid_folder_path(path, delimiter == 0 ? '/' : delimiter)) {
        return core::fail(mail_error::bad_request);
    }
    return utf8_to_mutf7(path);
}

core::result<std::string, mail_error> imap_connection::encode_mailbox(std::string_view path) {
    if (upper(path) == "INBOX") return std::string("INBOX");
    return encode_path(path);
}

// ---------------------------------------------------------------------------------------------
imap_session::imap_session(std::unique_ptr<imap_connection> connection) noexcept
    : connection_(std::move(connection)) {}

imap_session::~imap_session() {
    if (connection_ && connection_->imap && connection_->alive) {
        if (connection_->idling) mailimap_idle_done(connection_->imap.get());
        // Best effort, and quick: the logout may not hold a closing session up for long.
        mailimap_set_timeout(connection_->imap.get(), 2);
        mailimap_logout(connection_->imap.get());
    }
}
imap_session::imap_session(imap_session&&) noexcept = default;
imap_session& imap_session::operator=(imap_session&&) noexcept = default;

core::result<imap_session, mail_error> imap_session::open(const imap_endpoint& endpoint,
                                                          std::string_view user,
                                                          const core::secret_string& password) {
    if (endpoint.host.empty() || endpoint.port == 0 || !safe_argument(endpoint.host) ||
        !safe_argument(user) || !safe_argument(password.reveal()) || user.empty()) {
        return core::fail(mail_error::bad_request);
    }
    auto c = std::make_unique<imap_connection>();
    c->timeout = endpoint.timeout;
    c->imap.reset(mailimap_new(0, nullptr));
    if (!c->imap) return core::fail(mail_error::unavailable);
    mailimap_set_timeout(c->imap.get(), static_cast<time_t>(endpoint.timeout.count()));

    std::string host = endpoint.host;
    c->start();
    int r = MAILIMAP_NO_ERROR;
    if (endpoint.address_allowed) {
        // An external server: the name resolved once and checked, the connection made to the
        // checked address, the name used for SNI and the certificate only.
        auto fd = connect_tcp(host, endpoint.port, endpoint.address_allowed, endpoint.timeout);
        if (!fd) return core::fail(fd.error());
        const auto seconds = static_cast<time_t>(endpoint.timeout.count());
        mailstream* stream = endpoint.tls == tls_mode::tls
                                 ? mailstream_ssl_open_with_callback_timeout(
                                       *fd, seconds, detail::set_server_name, &host)
                                 : mailstream_socket_open_timeout(*fd, seconds);
        if (stream == nullptr) {
            ::close(*fd);
            return core::fail(endpoint.tls == tls_mode::tls ? mail_error::external_refused
                                                            : mail_error::unavailable);
        }
        r = mailimap_connect(c->imap.get(), stream);  // owns the stream from here on
    } else if (endpoint.tls == tls_mode::tls) {
        r = mailimap_ssl_connect_with_callback(c->imap.get(), host.c_str(), endpoint.port,
                                               detail::set_server_name, &host);
    } else {
        r = mailimap_socket_connect(c->imap.get(), host.c_str(), endpoint.port);
    }
    if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
        r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
        return core::fail(c->failure(r == MAILIMAP_ERROR_SSL ? MAILIMAP_ERROR_STREAM : r,
                                     mail_error::unavailable));
    }
    if (endpoint.tls == tls_mode::starttls) {
        c->start();
        r = mailimap_socket_starttls_with_callback(c->imap.get(), detail::set_server_name, &host);
        if (r != MAILIMAP_NO_ERROR) {
            // A server without STARTTLS is refused rather than used in clear text.
            return core::fail(r == MAILIMAP_ERROR_STARTTLS ? mail_error::external_refused
                                                           : c->failure(r));
        }
    }
    if (endpoint.tls != tls_mode::none &&
        !detail::peer_verified(c->imap->imap_stream, endpoint.host)) {
        c->alive = false;  // not a word more to an unverified peer, not even LOGOUT
        return core::fail(mail_error::external_refused);
    }
    const std::string user_copy(user);
    std::string password_copy(password.reveal());
    c->start();
    r = mailimap_login(c->imap.get(), user_copy.c_str(), password_copy.c_str());
    core::wipe(password_copy.data(), password_copy.size());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c->failure(r, mail_error::login_failed));
    c->load_capabilities();
    return imap_session(std::move(c));
}

bool imap_session::alive() const noexcept {
    return connection_ && connection_->alive;
}

bool imap_session::has_capability(std::string_view cap) const {
    return connection_ && connection_->capabilities.count(upper(cap)) > 0;
}

}  // namespace secms::mail

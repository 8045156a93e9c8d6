#include "server/mail/mail_transport.hpp"

#include <arpa/inet.h>
#include <libetpan/libetpan.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "server/mail/message_headers.hpp"
#include "server/mail/tls_verify.hpp"

// Exported by libetpan, not declared in its installed headers.
extern "C" int mail_tcp_connect_timeout(const char* server, std::uint16_t port, time_t timeout);

namespace secms::mail {

core::result<std::vector<boost::asio::ip::address>, mail_error> resolve_checked(
    std::string_view host, const address_check& allowed) {
    if (host.empty() || host.size() > 253) return core::fail(mail_error::bad_request);
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto found = resolver.resolve(std::string(host), "0", ec);
    if (ec || found.empty()) return core::fail(mail_error::unavailable);
    std::vector<boost::asio::ip::address> addresses;
    for (const auto& entry : found) {
        const auto address = entry.endpoint().address();
        if (!allowed || !allowed(address)) return core::fail(mail_error::external_refused);
        if (std::find(addresses.begin(), addresses.end(), address) == addresses.end())
            addresses.push_back(address);
    }
    return addresses;
}

core::result<int, mail_error> connect_tcp(const std::string& host, std::uint16_t port,
                                          const address_check& allowed,
                                          std::chrono::seconds timeout) {
    const auto seconds = static_cast<time_t>(timeout.count());
    if (!allowed) {
        const int fd = mail_tcp_connect_timeout(host.c_str(), port, seconds);
        if (fd < 0) return core::fail(mail_error::unavailable);
        return fd;
    }
    auto addresses = resolve_checked(host, allowed);
    if (!addresses) return core::fail(addresses.error());
    // A numeric address is parsed, not looked up, by libetpan's getaddrinfo: the connection goes
    // to the address checked above. At most three are tried (each within the timeout).
    constexpr std::size_t max_tried = 3;
    for (std::size_t i = 0; i < addresses->size() && i < max_tried; ++i) {
        const std::string numeric = (*addresses)[i].to_string();
        const int fd = mail_tcp_connect_timeout(numeric.c_str(), port, seconds);
        if (fd >= 0) return fd;
    }
    return core::fail(mail_error::unavailable);
}

namespace {

struct smtp_deleter {
    void operator()(mailsmtp* s) const noexcept { mailsmtp_free(s); }
};
using smtp_ptr = std::unique_ptr<mailsmtp, smtp_deleter>;

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

std::string reply_text(const mailsmtp* s, int code) {
    std::string out = std::to_string(code);
    if (s->response != nullptr && s->response[0] != '\0') {
        out += ' ';
        out += s->response;
    }
    while (!out.empty() && (out.back() == '\r' || out.back() == '\n')) out.pop_back();
    return out;
}

class smtp_client {
  public:
    explicit smtp_client(const transport_endpoint& endpoint)
        : endpoint_(endpoint), host_(endpoint.host), session_(mailsmtp_new(0, nullptr)) {}
    ~smtp_client() {
        if (session_ && connected_ && session_->stream != nullptr) {
            mailsmtp_set_timeout(session_.get(), 2);
            mailsmtp_quit(session_.get());
        }
    }
    smtp_client(const smtp_client&) = delete;
    smtp_client& operator=(const smtp_client&) = delete;

    mailsmtp* get() { return session_.get(); }

    // Maps a libetpan SMTP result: stream errors become timeout or unavailable.
    mail_error failure(int r, mail_error otherwise) const {
        if (r == MAILSMTP_ERROR_STREAM || r == MAILSMTP_ERROR_CONNECTION_REFUSED ||
            r == MAILSMTP_ERROR_HOSTNAME || r == MAILSMTP_ERROR_SSL) {
            const auto elapsed = std::chrono::steady_clock::now() - start_;
            return elapsed + std::chrono::milliseconds(500) >= endpoint_.timeout
                       ? mail_error::timeout
                       : mail_error::unavailable;
        }
        if (r == MAILSMTP_ERROR_MEMORY) return mail_error::unavailable;
        return otherwise;
    }
    void start() { start_ = std::chrono::steady_clock::now(); }

    // Connects, greets (LHLO or EHLO), and for SMTP: STARTTLS/TLS with a verified certificate
    // and AUTH when a username is set.
    core::status<mail_error> open(bool lmtp) {
        if (!session_) return core::fail(mail_error::unavailable);
        if (endpoint_.host.empty() || endpoint_.port == 0) {
            return core::fail(mail_error::bad_request);
        }
        mailsmtp_set_timeout(session_.get(), static_cast<time_t>(endpoint_.timeout.count()));
        const bool tls = !lmtp && endpoint_.tls == tls_mode::tls;
        const bool starttls = !lmtp && endpoint_.tls == tls_mode::starttls;
        // Credentials never cross a network in clear text.
        if (!lmtp && endpoint_.tls == tls_mode::none && !endpoint_.username.empty() &&
            !is_loopback(endpoint_.host)) {
            return core::fail(mail_error::external_refused);
        }
        // libetpan's mailsmtp_socket_connect reads the greeting without the session timeout,
        // so the stream is opened here with it.
        start();
        const auto timeout = static_cast<time_t>(endpoint_.timeout.count());
        auto connected =
            connect_tcp(host_, endpoint_.port, endpoint_.address_allowed, endpoint_.timeout);
        if (!connected) {
            if (connected.error() != mail_error::unavailable) return core::fail(connected.error());
            return core::fail(failure(MAILSMTP_ERROR_CONNECTION_REFUSED, mail_error::unavailable));
        }
        const int fd = *connected;
        mailstream* stream = tls ? mailstream_ssl_open_with_callback_timeout(
                                       fd, timeout, detail::set_server_name, &host_)
                                 : mailstream_socket_open_timeout(fd, timeout);
        if (stream == nullptr) {
            ::close(fd);
            return core::fail(tls ? mail_error::external_refused : mail_error::unavailable);
        }
        int r = mailsmtp_connect(session_.get(), stream);  // owns the stream from here on
        if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::unavailable));
        connected_ = true;
        if (tls && !detail::peer_verified(session_->stream, endpoint_.host)) {
            return core::fail(mail_error::external_refused);
        }
        start();
        r = lmtp ? mailesmtp_lhlo(session_.get(), "localhost") : mailesmtp_ehlo(session_.get());
        if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::protocol));
        if (starttls) {
            if ((session_->esmtp & MAILSMTP_ESMTP_STARTTLS) == 0) {
                return core::fail(mail_error::external_refused);
            }
            start();
            r = mailsmtp_socket_starttls_with_callback(session_.get(), detail::set_server_name,
                                                       &host_);
            if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::external_refused));
            if (!detail::peer_verified(session_->stream, endpoint_.host)) {
                return core::fail(mail_error::external_refused);
            }
            start();
            r = mailesmtp_ehlo(session_.get());
            if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::protocol));
        }
        if (!lmtp && !endpoint_.username.empty()) {
            // PLAIN or LOGIN only: the channel is already encrypted, and they need no SASL
            // plugins beyond libsasl2-modules.
            const int type = (session_->auth & MAILSMTP_AUTH_PLAIN)   ? MAILSMTP_AUTH_PLAIN
                             : (session_->auth & MAILSMTP_AUTH_LOGIN) ? MAILSMTP_AUTH_LOGIN
                                                                      : 0;
            if (type == 0) return core::fail(mail_error::login_failed);
            std::string password(endpoint_.password.reveal());
            start();
            r = mailsmtp_auth_type(session_.get(), endpoint_.username.c_str(), password.c_str(),
                                   type);
            core::wipe(password.data(), password.size());
            if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::login_failed));
        }
        return core::ok;
    }

    core::result<std::vector<recipient_result>, mail_error> transfer(
        bool lmtp, std::string_view envelope_from, std::span<const std::string> recipients,
        std::string_view raw) {
        if (!envelope_from.empty() && !valid_address(envelope_from)) {
            return core::fail(mail_error::bad_request);
        }
        if (recipients.empty()) return core::fail(mail_error::bad_request);
        for (const auto& r : recipients) {
            if (!valid_address(r)) return core::fail(mail_error::bad_request);
        }
        const std::string from(envelope_from);
        start();
        int r = mailsmtp_mail(session_.get(), from.c_str());
        if (r != MAILSMTP_NO_ERROR) return core::fail(failure(r, mail_error::send_failed));
        last_reply_ = reply_text(session_.get(), session_->response_code);

        std::vector<recipient_result> out;
        clist* accepted = clist_new();
        const std::unique_ptr<clist, void (*)(clist*)> accepted_guard(accepted, clist_free);
        std::vector<std::size_t> accepted_index;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            start();
            r = mailsmtp_rcpt(session_.get(), recipients[i].c_str());
            if (r == MAILSMTP_ERROR_STREAM) return core::fail(failure(r, mail_error::send_failed));
            recipient_result result{recipients[i], r == MAILSMTP_NO_ERROR,
                                    reply_text(session_.get(), session_->response_code)};
            if (result.accepted) {
                clist_append(accepted, const_cast<char*>(recipients[i].c_str()));
                accepted_index.push_back(i);
            }
            out.push_back(std::move(result));
        }
        if (accepted_index.empty()) {
            start();
            mailsmtp_reset(session_.get());
            return out;
        }
        start();
        r = mailsmtp_data(session_.get());
        if (r != MAILSMTP_NO_ERROR) {
            last_reply_ = reply_text(session_.get(), session_->response_code);
            return core::fail(failure(r, mail_error::send_failed));
        }
        // libetpan ends the data with CRLF "." CRLF itself: one final CRLF of the message is
        // dropped so the delivered bytes are the given ones.
        std::string_view body = raw;
        if (body.size() >= 2 && body.substr(body.size() - 2) == "\r\n") body.remove_suffix(2);
        start();
        if (lmtp) {
            std::vector<int> codes(accepted_index.size(), 0);
            r = maillmtp_data_message(session_.get(), body.data(), body.size(), accepted,
                                      codes.data());
            if (r == MAILSMTP_ERROR_STREAM) return core::fail(failure(r, mail_error::send_failed));
            for (std::size_t k = 0; k < accepted_index.size(); ++k) {
                auto& result = out[accepted_index[k]];
                result.accepted = codes[k] >= 200 && codes[k] < 300;
                result.reply = codes[k] == 0 ? std::string("no reply") : std::to_string(codes[k]);
                if (k + 1 == accepted_index.size()) {
                    result.reply = reply_text(session_.get(), codes[k]);
                }
            }
        } else {
            r = mailsmtp_data_message(session_.get(), body.data(), body.size());
            const std::string reply = reply_text(session_.get(), session_->response_code);
            if (r != MAILSMTP_NO_ERROR) {
                if (r == MAILSMTP_ERROR_STREAM) {
                    return core::fail(failure(r, mail_error::send_failed));
                }
                for (const auto i : accepted_index) {
                    out[i].accepted = false;
                    out[i].reply = reply;
                }
            }
        }
        return out;
    }

  private:
    const transport_endpoint& endpoint_;
    std::string host_;
    smtp_ptr session_;
    bool connected_ = false;
    std::string last_reply_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace

core::result<std::vector<recipient_result>, mail_error> deliver_lmtp(
    const transport_endpoint& endpoint, std::string_view envelope_from,
    std::span<const std::string> recipients, std::string_view raw) {
    smtp_client client(endpoint);
    if (auto s = client.open(true); !s) return core::fail(s.error());
    return client.transfer(true, envelope_from, recipients, raw);
}

core::result<std::vector<recipient_result>, mail_error> submit_smtp(
    const transport_endpoint& endpoint, std::string_view envelope_from,
    std::span<const std::string> recipients, std::string_view raw) {
    smtp_client client(endpoint);
    if (auto s = client.open(false); !s) return core::fail(s.error());
    return client.transfer(false, envelope_from, recipients, raw);
}

core::status<mail_error> check_smtp_login(const transport_endpoint& endpoint) {
    smtp_client client(endpoint);
    return client.open(false);
}

}  // namespace secms::mail

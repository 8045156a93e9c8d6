// Message delivery: LMTP to the local Dovecot, SMTP submission to a smarthost or an external
// account's server (libetpan, synchronous, every command bounded by the endpoint's timeout).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/mail_error.hpp"

namespace secms::mail {

struct transport_endpoint {
    std::string host;
    std::uint16_t port = 0;
    tls_mode tls = tls_mode::starttls;
    std::chrono::seconds timeout{30};
    std::string username;
    core::secret_string password;
    std::function<bool(const boost::asio::ip::address&)> address_allowed;  // imap_endpoint's
};

struct recipient_result {
    std::string address;
    bool accepted = false;
    std::string reply;  // server text
};

using address_check = std::function<bool(const boost::asio::ip::address&)>;

// The SSRF guard of an external account's servers: resolves `host` once; unavailable when it
// does not resolve, external_refused when any of its addresses fails `allowed`. The checked
// addresses, which the connection then goes to (never to the name resolved again, which may by
// then point elsewhere).
core::result<std::vector<boost::asio::ip::address>, mail_error> resolve_checked(
    std::string_view host, const address_check& allowed);
// A TCP connection to `host`:`port` within `timeout` (per address tried): with `allowed` set, to
// an address resolve_checked checked; otherwise to whatever the name resolves to. The
// descriptor (the caller's to close).
core::result<int, mail_error> connect_tcp(const std::string& host, std::uint16_t port,
                                          const address_check& allowed,
                                          std::chrono::seconds timeout);

// LMTP (RFC 2033): one DATA, one reply per accepted recipient.
core::result<std::vector<recipient_result>, mail_error> deliver_lmtp(
    const transport_endpoint& endpoint, std::string_view envelope_from,
    std::span<const std::string> recipients, std::string_view raw);
// SMTP submission (RFC 6409) with STARTTLS/TLS and AUTH when a username is set.
core::result<std::vector<recipient_result>, mail_error> submit_smtp(
    const transport_endpoint& endpoint, std::string_view envelope_from,
    std::span<const std::string> recipients, std::string_view raw);
// Only checks credentials (connect, EHLO, STARTTLS, AUTH, QUIT) — used when a user adds an
// external account.
core::status<mail_error> check_smtp_login(const transport_endpoint& endpoint);

}  // namespace secms::mail

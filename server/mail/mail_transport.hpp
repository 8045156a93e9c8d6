// Message delivery: LMTP to the local Dovecot, SMTP submission to a smarthost or an external
// account's server (libetpan, synchronous, every command bounded by the endpoint's timeout).
#pragma once

#include <chrono>
#include <cstdint>
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
};

struct recipient_result {
    std::string address;
    bool accepted = false;
    std::string reply;  // server text
};

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

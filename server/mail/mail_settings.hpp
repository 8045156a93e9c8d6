// What the mail service is configured with ([mail] in the configuration, checked by the app),
// and the pure checks of those settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "server/core/secure_bytes.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/mail_transport.hpp"

namespace secms::mail {

struct service_settings {
    std::string domain = "localhost";  // lower case
    imap_endpoint imap;                // Dovecot
    transport_endpoint lmtp;           // Dovecot's LMTP (no AUTH)
    std::string master_user = "secms";
    core::secret_string master_secret;
    std::optional<transport_endpoint> smarthost;  // none: other domains are refused
    std::size_t max_message_bytes = 25 * 1024 * 1024;
    std::chrono::seconds timeout{30};
    std::chrono::seconds idle_refresh{1500};
    bool allow_external_accounts = true;
    bool external_allow_private = false;
    double per_user_burst = 60;
    double per_user_per_minute = 600;
    double send_per_user_per_minute = 30;
    std::size_t max_recipients = 100;
};

std::optional<tls_mode> parse_tls_mode(std::string_view word);
// A DNS name of letters, digits and hyphens (labels 1–63, ≤ 253 in all), or "localhost".
bool valid_domain(std::string_view domain);
// "localhost", 127.0.0.0/8 or ::1: the only hosts a smarthost without TLS may be on.
bool is_loopback_host(std::string_view host);

}  // namespace secms::mail

#include "server/core/metrics.hpp"

namespace secms::core {

void metrics::count_response(unsigned status) noexcept {
    if (status >= 100 && status < 600) ++responses_[status - 100];
}

std::int64_t metrics::responses(unsigned status) const noexcept {
    if (status < 100 || status >= 600) return 0;
    return responses_[status - 100].load();
}

std::string metrics::render() const {
    std::string out;
    auto gauge = [&out](const char* name, const char* help, const char* type, std::int64_t v) {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
        out += name;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    gauge("secms_connections_open", "Open client connections.", "gauge", connections_open);
    gauge("secms_connections_total", "Connections accepted since start.", "counter",
          connections_total);
    gauge("secms_connections_refused_total", "Connections refused over the limit.", "counter",
          connections_refused);
    gauge("secms_websockets_open", "Open application WebSockets.", "gauge", websockets_open);
    gauge("secms_users_online", "Distinct users with at least one WebSocket.", "gauge",
          users_online);
    gauge("secms_channels_open", "Open secure channels.", "gauge", channels_open);
    gauge("secms_relay_frames_total", "Relay frames forwarded.", "counter", relay_frames);
    gauge("secms_relay_bytes_total", "Relay bytes forwarded.", "counter", relay_bytes);
    // Counts only: which user asked, or for which call, is never recorded.
    gauge("secms_turn_credentials_issued_total", "TURN credentials issued.", "counter",
          turn_credentials_issued);
    gauge("secms_turn_credentials_refused_total",
          "TURN credential requests refused (not logged in or over the limit).", "counter",
          turn_credentials_refused);
    gauge("secms_mail_requests_total", "Mail API requests of logged-in users.", "counter",
          mail_requests_total);
    gauge("secms_mail_errors_total", "Mail API requests answered with an error.", "counter",
          mail_errors_total);
    gauge("secms_mail_sessions_open", "IMAP connections open now.", "gauge", mail_sessions_open);
    gauge("secms_mail_body_bytes_in_flight",
          "Bytes of /mail/send and /mail/append bodies read and held now (the large-body budget).",
          "gauge", mail_body_bytes_in_flight);
    gauge("secms_mail_sent_total", "Messages sent.", "counter", mail_sent_total);
    gauge("secms_logins_ok_total", "Successful logins.", "counter", logins_ok);
    gauge("secms_logins_failed_total", "Failed logins.", "counter", logins_failed);
    gauge("secms_hash_queue_depth", "Password hashing jobs queued or running.", "gauge",
          hash_queue_depth);
    out += "# HELP secms_http_responses_total HTTP responses by status code.\n";
    out += "# TYPE secms_http_responses_total counter\n";
    for (unsigned i = 0; i < responses_.size(); ++i) {
        auto v = responses_[i].load();
        if (v == 0) continue;
        out += "secms_http_responses_total{code=\"" + std::to_string(i + 100) + "\"} " +
               std::to_string(v) + "\n";
    }
    return out;
}

}  // namespace secms::core

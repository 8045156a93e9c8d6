// Process counters exposed at /metrics in the Prometheus text format (0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace secms::core {

class metrics {
  public:
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::int64_t> connections_total{0};
    std::atomic<std::int64_t> connections_refused{0};  // over the connection limit
    std::atomic<std::int64_t> websockets_open{0};
    std::atomic<std::int64_t> logins_ok{0};
    std::atomic<std::int64_t> logins_failed{0};
    std::atomic<std::int64_t> hash_queue_depth{0};  // Argon2id jobs waiting or running
    std::atomic<std::int64_t> users_online{0};
    std::atomic<std::int64_t> channels_open{0};  // secure-channel sessions both sides accepted
    std::atomic<std::int64_t> relay_frames{0};   // binary frames relayed
    std::atomic<std::int64_t> relay_bytes{0};
    std::atomic<std::int64_t> turn_credentials_issued{0};   // GET /api/v1/turn answered
    std::atomic<std::int64_t> turn_credentials_refused{0};  // not logged in, or over the limit
    std::atomic<std::int64_t> mail_requests_total{0};       // /api/v1/mail calls of logged-in users
    std::atomic<std::int64_t> mail_errors_total{0};         // of those, answered with an error
    std::atomic<std::int64_t> mail_sessions_open{0};        // IMAP connections held now
    std::atomic<std::int64_t> mail_sent_total{0};           // messages sent (one per send request)
    std::atomic<std::int64_t> mail_body_bytes_in_flight{0};  // large mail bodies being read

    void count_response(unsigned status) noexcept;
    std::int64_t responses(unsigned status) const noexcept;

    std::string render() const;

  private:
    // One counter per status code 100–599; index = status - 100.
    std::array<std::atomic<std::int64_t>, 500> responses_{};
};

// Counts a job in hash_queue_depth for its lifetime.
class queued_job {
  public:
    explicit queued_job(std::atomic<std::int64_t>& depth) : depth_(depth) { ++depth_; }
    ~queued_job() { --depth_; }
    queued_job(const queued_job&) = delete;
    queued_job& operator=(const queued_job&) = delete;

  private:
    std::atomic<std::int64_t>& depth_;
};

}  // namespace secms::core

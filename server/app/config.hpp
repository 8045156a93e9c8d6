// Configuration: built-in defaults, then a TOML file (--config), then command-line flags; a flag
// always wins. Every key has one flag of the same name (section.key_name → --key-name) and
// `secms-server --help` lists them all with their defaults (docs/operations.md has the table).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace secms::app {

struct config {
    // [server]
    std::string data_dir = "data";
    std::string listen = "127.0.0.1";
    std::uint16_t https_port = 8443;
    std::uint16_t http_port = 8080;  // 0: no redirect listener
    std::string public_origin;       // default https://localhost:<https_port>
    std::string extra_origins;       // comma-separated, also allowed for Origin checks
    std::string web_root = "web/dist";
    std::uint32_t io_threads = 0;    // 0: one per core
    std::uint32_t work_threads = 0;  // 0: one per core; Argon2id, database, certificate checks
    bool metrics_public = false;
    // [tls]
    std::string tls_certificate;  // default <data_dir>/tls/cert.pem (generated on first run)
    std::string tls_private_key;  // default <data_dir>/tls/key.pem
    // [hsm]
    std::string hsm_module = "/usr/lib/softhsm/libsofthsm2.so";
    std::string hsm_token_label = "secms";
    std::string hsm_pin_file;    // default <data_dir>/hsm/user.pin (generated for SoftHSM2)
    bool hsm_initialise = true;  // initialise an empty SoftHSM2 slot on first run
    // [log]
    std::string log_level = "info";
    std::string log_format = "text";  // text | json
    // [limits]
    std::uint32_t max_connections = 1024;
    std::uint32_t max_connections_per_ip = 64;  // IPv4 address or IPv6 /64, both ports
    std::uint32_t max_redirect_connections = 64;
    std::uint32_t max_header_bytes = 8 * 1024;
    std::uint32_t max_body_bytes = 64 * 1024;
    std::uint32_t handshake_timeout_s = 5;
    std::uint32_t read_timeout_s = 30;
    std::uint32_t idle_timeout_s = 60;
    std::uint32_t ws_max_message_bytes = 64 * 1024;
    std::uint32_t ws_idle_timeout_s = 60;
    std::uint32_t ws_queue_messages = 1024;
    std::uint32_t max_websockets_per_user = 8;  // all of one account's tabs and devices
    // [sessions]
    std::uint32_t session_idle_timeout_s = 30 * 60;
    std::uint32_t session_absolute_timeout_s = 12 * 60 * 60;
    std::uint32_t session_max_logins = 100'000;  // all accounts; a full table refuses new logins
    std::uint32_t session_max_per_user = 32;     // one account's; its oldest login makes way
    // [channels]
    std::uint32_t channel_idle_timeout_s = 30 * 60;
    std::uint32_t channel_offer_timeout_s = 120;
    std::uint32_t sweep_interval_s = 5;
    // [chat]
    std::uint32_t chat_flood_per_minute = 20;
    std::uint32_t chat_control_per_minute = 30;
    std::uint32_t chat_max_message_chars = 1040;
    std::uint32_t chat_max_rooms = 1000;
    std::uint32_t chat_max_members_per_room = 256;
    std::uint32_t chat_max_rooms_per_user = 32;
    std::uint32_t chat_max_private_rooms = 1000;
    std::uint32_t chat_max_private_rooms_per_user = 8;
    // [control_limits] per-user buckets of the WebSocket control messages (docs/operations.md)
    double control_membership_burst = 40;
    double control_membership_per_minute = 30;
    double control_query_burst = 30;
    double control_query_per_minute = 60;
    double control_channel_burst = 300;
    double control_channel_per_minute = 300;
    double control_other_burst = 30;
    double control_other_per_minute = 60;
    std::uint32_t control_max_fanout_bytes = 256 * 1024;
    std::uint32_t control_max_pending_offers_per_peer = 2;
    std::uint32_t control_max_pending_offers = 16;
    // [certificates] what a submitted OpenPGP certificate may hold, checked before librnp
    // verifies it, and how often one may be submitted (docs/operations.md, docs/certificates.md)
    std::uint32_t certificate_max_bytes = 64 * 1024;
    std::uint32_t certificate_max_rsa_bits = 4096;  // 2048..8192
    std::uint32_t certificate_max_packets = 1000;
    std::uint32_t certificate_max_user_ids = 32;
    std::uint32_t certificate_max_subkeys = 16;
    std::uint32_t certificate_max_signatures = 256;
    std::uint32_t certificate_max_self_signatures_per_user_id = 8;
    std::uint32_t certificate_max_signatures_per_subkey = 8;
    double certificate_submit_per_connection_burst = 3;
    double certificate_submit_per_connection_per_minute = 3;
    double certificate_submit_per_account_burst = 5;
    double certificate_submit_per_account_per_minute = 5;
    // [rate_limits]
    double login_per_ip_burst = 20;
    double login_per_ip_per_minute = 20;
    // Failed logins per (account, client address): free ones, then a doubling delay (429).
    std::uint32_t login_free_failures = 5;
    std::uint32_t login_delay_base_s = 1;
    std::uint32_t login_delay_max_s = 300;
    // Failures on one account from all addresses past which every attempt is slowed (never 429).
    std::uint32_t login_account_ceiling = 100;
    std::uint32_t login_account_slowdown_ms = 1000;
    std::uint32_t login_failure_window_s = 3600;  // failures older than this are forgotten
    std::uint32_t limiter_max_keys = 100'000;     // entries per limiter table
    double register_per_ip_burst = 10;
    double register_per_ip_per_minute = 5;
    // [password]
    std::uint32_t argon2_memory_kib = 19 * 1024;
    std::uint32_t argon2_passes = 2;
    // [turn] TURN REST credentials for calls (docs/operations.md "Calls: TURN")
    std::string turn_urls = "turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp";
    std::string turn_secret_file;  // default <data_dir>/turn/secret (generated on first run)
    std::uint32_t turn_credential_ttl_s = 12 * 60 * 60;  // 60..172800
    bool turn_force_relay = false;
    double turn_per_user_burst = 10;
    double turn_per_user_per_minute = 20;
    // [mail] the Email tab: Dovecot on loopback, a smarthost for other domains (docs/api.md "Mail")
    bool mail_enabled = true;
    std::string mail_domain = "localhost";
    std::string mail_imap_host = "127.0.0.1";
    std::uint16_t mail_imap_port = 1143;
    std::string mail_imap_tls = "none";  // none | starttls | tls
    std::string mail_lmtp_host = "127.0.0.1";
    std::uint16_t mail_lmtp_port = 2424;
    std::string mail_master_user = "secms";
    std::string
        mail_master_secret_file;      // default <data_dir>/mail/master-secret (made on first run)
    std::string mail_smarthost_host;  // empty: mail to other domains is refused
    std::uint16_t mail_smarthost_port = 587;
    std::string mail_smarthost_tls = "starttls";  // starttls | tls | none (loopback hosts only)
    std::string mail_smarthost_username;
    std::string mail_smarthost_password_file;
    std::uint32_t mail_max_message_bytes = 25 * 1024 * 1024;
    std::uint32_t mail_timeout_s = 30;
    std::uint32_t mail_idle_refresh_s = 1500;
    bool mail_allow_external_accounts = true;
    bool mail_external_allow_private = false;
    double mail_per_user_burst = 60;
    double mail_per_user_per_minute = 600;
    double mail_send_per_user_per_minute = 30;
    std::uint32_t mail_max_recipients = 100;
    // [sip] the VoIP tab's SIP phone: Kamailio + rtpengine (docs/api.md "SIP")
    bool sip_enabled = true;
    std::string sip_domain = "localhost";
    std::string sip_websocket_url = "wss://localhost:7443";  // the page's connect-src names it
    std::string sip_secret_file;                // default <data_dir>/sip/secret (made on first run)
    std::uint32_t sip_credential_ttl_s = 3600;  // 60..86400
    std::uint32_t sip_device_ttl_days = 365;    // 1..3650
    std::uint32_t sip_max_devices_per_user = 10;
    std::string sip_phone_proxy = "localhost:5060";      // host:port for UDP and TCP phones
    std::string sip_phone_tls_proxy = "localhost:5061";  // empty: TLS not offered
    double sip_per_user_burst = 10;
    double sip_per_user_per_minute = 20;

    std::filesystem::path data_path() const { return data_dir; }
    std::string effective_public_origin() const;
    std::vector<std::string> allowed_origins() const;
    std::filesystem::path certificate_path() const;
    std::filesystem::path private_key_path() const;
    std::filesystem::path pin_file_path() const;
    std::filesystem::path turn_secret_path() const;
    std::filesystem::path mail_master_secret_path() const;
    std::filesystem::path sip_secret_path() const;
};

// A configuration problem, said plainly.
struct config_error {
    std::string message;
};

}  // namespace secms::app

#include "server/app/cli.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <variant>

namespace secms::app {

std::string config::effective_public_origin() const {
    if (!public_origin.empty()) return public_origin;
    return "https://localhost:" + std::to_string(https_port);
}

std::vector<std::string> config::allowed_origins() const {
    std::vector<std::string> out{effective_public_origin()};
    std::stringstream extra(extra_origins);
    std::string item;
    while (std::getline(extra, item, ',')) {
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

std::filesystem::path config::certificate_path() const {
    return tls_certificate.empty() ? data_path() / "tls" / "cert.pem"
                                   : std::filesystem::path(tls_certificate);
}

std::filesystem::path config::private_key_path() const {
    return tls_private_key.empty() ? data_path() / "tls" / "key.pem"
                                   : std::filesystem::path(tls_private_key);
}

std::filesystem::path config::pin_file_path() const {
    return hsm_pin_file.empty() ? data_path() / "hsm" / "user.pin"
                                : std::filesystem::path(hsm_pin_file);
}

std::filesystem::path config::turn_secret_path() const {
    return turn_secret_file.empty() ? data_path() / "turn" / "secret"
                                    : std::filesystem::path(turn_secret_file);
}

std::filesystem::path config::mail_master_secret_path() const {
    return mail_master_secret_file.empty() ? data_path() / "mail" / "master-secret"
                                           : std::filesystem::path(mail_master_secret_file);
}

std::filesystem::path config::sip_secret_path() const {
    return sip_secret_file.empty() ? data_path() / "sip" / "secret"
                                   : std::filesystem::path(sip_secret_file);
}

namespace {

using field_ptr = std::variant<std::string*, std::uint16_t*, std::uint32_t*, bool*, double*>;

struct option_entry {
    const char* section;
    const char* key;
    field_ptr field;
    const char* help;
};

std::vector<option_entry> option_table(config& c) {
    return {
        {"server", "data_dir", &c.data_dir, "Data directory: database, HSM token, TLS files"},
        {"server", "listen", &c.listen, "Address to listen on"},
        {"server", "https_port", &c.https_port, "HTTPS port"},
        {"server", "http_port", &c.http_port,
         "Plain-HTTP port that only redirects to HTTPS (0: off)"},
        {"server", "public_origin", &c.public_origin,
         "Origin users reach the service at (default https://localhost:<https_port>)"},
        {"server", "extra_origins", &c.extra_origins, "Other allowed origins, comma-separated"},
        {"server", "web_root", &c.web_root, "Directory of the built front end"},
        {"server", "io_threads", &c.io_threads, "I/O threads (0: one per core)"},
        {"server", "work_threads", &c.work_threads,
         "Worker threads for password hashing and database work (0: one per core)"},
        {"server", "metrics_public", &c.metrics_public, "Serve /metrics to non-loopback clients"},
        {"tls", "tls_certificate", &c.tls_certificate,
         "TLS certificate chain, PEM (default <data_dir>/tls/cert.pem, self-signed on first run)"},
        {"tls", "tls_private_key", &c.tls_private_key,
         "TLS private key, PEM (default <data_dir>/tls/key.pem)"},
        {"hsm", "hsm_module", &c.hsm_module, "PKCS#11 module"},
        {"hsm", "hsm_token_label", &c.hsm_token_label, "Label of the PKCS#11 token"},
        {"hsm", "hsm_pin_file", &c.hsm_pin_file,
         "File holding the token's user PIN (default <data_dir>/hsm/user.pin, made for SoftHSM2)"},
        {"hsm", "hsm_initialise", &c.hsm_initialise,
         "Initialise an empty token slot on first run (SoftHSM2)"},
        {"log", "log_level", &c.log_level, "trace, debug, info, warn, error, critical or off"},
        {"log", "log_format", &c.log_format, "text or json"},
        {"limits", "max_connections", &c.max_connections, "Maximum open HTTPS connections"},
        {"limits", "max_connections_per_ip", &c.max_connections_per_ip,
         "Maximum open connections from one IPv4 address or IPv6 /64"},
        {"limits", "max_redirect_connections", &c.max_redirect_connections,
         "Maximum open connections on the plain-HTTP redirect port"},
        {"limits", "max_header_bytes", &c.max_header_bytes, "Maximum size of request headers"},
        {"limits", "max_body_bytes", &c.max_body_bytes, "Maximum size of a request body"},
        {"limits", "handshake_timeout_s", &c.handshake_timeout_s,
         "TLS handshake timeout from the accept; WebSocket handshake; redirect request"},
        {"limits", "read_timeout_s", &c.read_timeout_s, "Timeout to read one request"},
        {"limits", "idle_timeout_s", &c.idle_timeout_s, "Keep-alive idle timeout"},
        {"limits", "ws_max_message_bytes", &c.ws_max_message_bytes, "Maximum WebSocket message"},
        {"limits", "ws_idle_timeout_s", &c.ws_idle_timeout_s,
         "WebSocket idle timeout (a ping is sent after half)"},
        {"limits", "ws_queue_messages", &c.ws_queue_messages,
         "Messages queued per WebSocket before a slow client is dropped"},
        {"limits", "max_websockets_per_user", &c.max_websockets_per_user,
         "WebSockets one account may hold open at once (more are refused with 429)"},
        {"sessions", "session_idle_timeout_s", &c.session_idle_timeout_s, "Login idle timeout"},
        {"sessions", "session_absolute_timeout_s", &c.session_absolute_timeout_s,
         "Login absolute timeout"},
        {"sessions", "session_max_logins", &c.session_max_logins,
         "Live logins held in all; when full, new logins are refused (503), none is evicted"},
        {"sessions", "session_max_per_user", &c.session_max_per_user,
         "Live logins of one account; a new one ends that account's oldest"},
        {"channels", "channel_idle_timeout_s", &c.channel_idle_timeout_s,
         "A secure channel with no traffic for this long is ended"},
        {"channels", "channel_offer_timeout_s", &c.channel_offer_timeout_s,
         "Both sides must accept a secure channel within this time"},
        {"channels", "sweep_interval_s", &c.sweep_interval_s,
         "How often expired logins and channels are looked for"},
        {"chat", "chat_flood_per_minute", &c.chat_flood_per_minute,
         "Room messages a user may send per minute (sliding window)"},
        {"chat", "chat_control_per_minute", &c.chat_control_per_minute,
         "Room control frames (deletions, sender-key notices) a user may send per minute"},
        {"chat", "chat_max_message_chars", &c.chat_max_message_chars,
         "Longest room message in characters (body limit: 4 bytes each + 1024)"},
        {"chat", "chat_max_rooms", &c.chat_max_rooms, "Most public chat rooms at once"},
        {"chat", "chat_max_members_per_room", &c.chat_max_members_per_room,
         "Most members of one chat room"},
        {"chat", "chat_max_rooms_per_user", &c.chat_max_rooms_per_user,
         "Most chat rooms one user is in"},
        {"chat", "chat_max_private_rooms", &c.chat_max_private_rooms,
         "Most private chat rooms at once (counted apart from public rooms)"},
        {"chat", "chat_max_private_rooms_per_user", &c.chat_max_private_rooms_per_user,
         "Most private chat rooms one user has made that still exist"},
        {"control_limits", "control_membership_burst", &c.control_membership_burst,
         "Room joins, leaves and invitations a user may send at once"},
        {"control_limits", "control_membership_per_minute", &c.control_membership_per_minute,
         "Room joins, leaves and invitations per user per minute (refill)"},
        {"control_limits", "control_query_burst", &c.control_query_burst,
         "Room list/who, whereis and moderator requests a user may send at once"},
        {"control_limits", "control_query_per_minute", &c.control_query_per_minute,
         "Room list/who, whereis and moderator requests per user per minute (refill)"},
        {"control_limits", "control_channel_burst", &c.control_channel_burst,
         "Secure-channel requests, accepts, rejects and ends a user may send at once"},
        {"control_limits", "control_channel_per_minute", &c.control_channel_per_minute,
         "Secure-channel requests, accepts, rejects and ends per user per minute (refill)"},
        {"control_limits", "control_other_burst", &c.control_other_burst,
         "Pings, certificate messages and unknown types a user may send at once"},
        {"control_limits", "control_other_per_minute", &c.control_other_per_minute,
         "Pings, certificate messages and unknown types per user per minute (refill)"},
        {"control_limits", "control_max_fanout_bytes", &c.control_max_fanout_bytes,
         "Most bytes one room join or invitation may make the server send"},
        {"control_limits", "control_max_pending_offers_per_peer",
         &c.control_max_pending_offers_per_peer,
         "Unanswered secure-channel offers one user may have towards one user"},
        {"control_limits", "control_max_pending_offers", &c.control_max_pending_offers,
         "Unanswered secure-channel offers one user may have in all"},
        {"certificates", "certificate_max_bytes", &c.certificate_max_bytes,
         "Largest certificate accepted, in bytes"},
        {"certificates", "certificate_max_rsa_bits", &c.certificate_max_rsa_bits,
         "Largest RSA modulus (and DSA/ElGamal prime) in a certificate, 2048 to 8192 bits"},
        {"certificates", "certificate_max_packets", &c.certificate_max_packets,
         "Most OpenPGP packets in a certificate"},
        {"certificates", "certificate_max_user_ids", &c.certificate_max_user_ids,
         "Most user IDs (and user attributes) in a certificate"},
        {"certificates", "certificate_max_subkeys", &c.certificate_max_subkeys,
         "Most subkeys in a certificate"},
        {"certificates", "certificate_max_signatures", &c.certificate_max_signatures,
         "Most signatures in a certificate"},
        {"certificates", "certificate_max_self_signatures_per_user_id",
         &c.certificate_max_self_signatures_per_user_id,
         "Most self-signatures on one user ID (and direct signatures on the primary key)"},
        {"certificates", "certificate_max_signatures_per_subkey",
         &c.certificate_max_signatures_per_subkey, "Most signatures on one subkey"},
        {"certificates", "certificate_submit_per_connection_burst",
         &c.certificate_submit_per_connection_burst,
         "Certificate submissions per WebSocket connection at once"},
        {"certificates", "certificate_submit_per_connection_per_minute",
         &c.certificate_submit_per_connection_per_minute,
         "Certificate submissions per WebSocket connection per minute"},
        {"certificates", "certificate_submit_per_account_burst",
         &c.certificate_submit_per_account_burst,
         "Certificate submissions per account (all its connections) at once"},
        {"certificates", "certificate_submit_per_account_per_minute",
         &c.certificate_submit_per_account_per_minute,
         "Certificate submissions per account (all its connections) per minute"},
        {"rate_limits", "login_per_ip_burst", &c.login_per_ip_burst,
         "Login attempts per IP at once"},
        {"rate_limits", "login_per_ip_per_minute", &c.login_per_ip_per_minute,
         "Login attempts per IP per minute"},
        {"rate_limits", "login_free_failures", &c.login_free_failures,
         "Failed logins per account and address before a delay"},
        {"rate_limits", "login_delay_base_s", &c.login_delay_base_s,
         "First delay after the free failures; doubles with each further failure"},
        {"rate_limits", "login_delay_max_s", &c.login_delay_max_s,
         "Longest delay between logins of one account from one address"},
        {"rate_limits", "login_account_ceiling", &c.login_account_ceiling,
         "Failed logins on one account (all addresses) past which every attempt is slowed"},
        {"rate_limits", "login_account_slowdown_ms", &c.login_account_slowdown_ms,
         "Pause before each login of an account past the ceiling (never refused)"},
        {"rate_limits", "login_failure_window_s", &c.login_failure_window_s,
         "Failed logins older than this are forgotten"},
        {"rate_limits", "limiter_max_keys", &c.limiter_max_keys,
         "Entries kept per rate-limit table (the longest idle is dropped)"},
        {"rate_limits", "register_per_ip_burst", &c.register_per_ip_burst,
         "Registrations per IP at once"},
        {"rate_limits", "register_per_ip_per_minute", &c.register_per_ip_per_minute,
         "Registrations per IP per minute"},
        {"password", "argon2_memory_kib", &c.argon2_memory_kib,
         "Argon2id memory in KiB (at least 19456)"},
        {"password", "argon2_passes", &c.argon2_passes, "Argon2id passes (at least 2)"},
        {"turn", "turn_urls", &c.turn_urls,
         "TURN/STUN URLs handed to browsers, comma-separated (turn:, turns:, stun:, stuns: with "
         "host and port; empty: none)"},
        {"turn", "turn_secret_file", &c.turn_secret_file,
         "Secret shared with the TURN server (coturn static-auth-secret; default "
         "<data_dir>/turn/secret, made on first run)"},
        {"turn", "turn_credential_ttl_s", &c.turn_credential_ttl_s,
         "Lifetime of a TURN credential, 60 to 172800 seconds"},
        {"turn", "turn_force_relay", &c.turn_force_relay,
         "Make every call use the TURN relay (iceTransportPolicy relay)"},
        {"turn", "turn_per_user_burst", &c.turn_per_user_burst,
         "TURN credential requests one user may make at once"},
        {"turn", "turn_per_user_per_minute", &c.turn_per_user_per_minute,
         "TURN credential requests per user per minute (refill)"},
        {"mail", "mail_enabled", &c.mail_enabled, "Serve the Email tab's API (/api/v1/mail)"},
        {"mail", "mail_domain", &c.mail_domain,
         "Mail domain: user alice has the address alice@<mail_domain>"},
        {"mail", "mail_imap_host", &c.mail_imap_host, "Dovecot's IMAP host"},
        {"mail", "mail_imap_port", &c.mail_imap_port, "Dovecot's IMAP port"},
        {"mail", "mail_imap_tls", &c.mail_imap_tls, "IMAP transport security: none, starttls, tls"},
        {"mail", "mail_lmtp_host", &c.mail_lmtp_host, "Dovecot's LMTP host (local delivery)"},
        {"mail", "mail_lmtp_port", &c.mail_lmtp_port, "Dovecot's LMTP port"},
        {"mail", "mail_master_user", &c.mail_master_user,
         "Dovecot master user the server logs in as (<user>*<master_user>)"},
        {"mail", "mail_master_secret_file", &c.mail_master_secret_file,
         "Master user's secret (default <data_dir>/mail/master-secret, made on first run)"},
        {"mail", "mail_smarthost_host", &c.mail_smarthost_host,
         "SMTP relay for other domains (empty: mail to other domains is refused)"},
        {"mail", "mail_smarthost_port", &c.mail_smarthost_port, "SMTP relay port"},
        {"mail", "mail_smarthost_tls", &c.mail_smarthost_tls,
         "SMTP relay transport security: starttls, tls, none (none only for loopback hosts)"},
        {"mail", "mail_smarthost_username", &c.mail_smarthost_username,
         "SMTP relay AUTH user name (empty: no AUTH)"},
        {"mail", "mail_smarthost_password_file", &c.mail_smarthost_password_file,
         "File holding the SMTP relay password (mode 0600)"},
        {"mail", "mail_max_message_bytes", &c.mail_max_message_bytes,
         "Largest message sent or appended, in bytes (request bodies of send and append)"},
        {"mail", "mail_timeout_s", &c.mail_timeout_s,
         "Timeout of every IMAP, LMTP and SMTP command, and of each mail request's job"},
        {"mail", "mail_idle_refresh_s", &c.mail_idle_refresh_s,
         "IMAP IDLE is re-issued after this many seconds"},
        {"mail", "mail_allow_external_accounts", &c.mail_allow_external_accounts,
         "Let users read another IMAP/SMTP account for their login session"},
        {"mail", "mail_external_allow_private", &c.mail_external_allow_private,
         "Allow external accounts on loopback, private or link-local addresses"},
        {"mail", "mail_per_user_burst", &c.mail_per_user_burst,
         "Mail API calls one user may make at once"},
        {"mail", "mail_per_user_per_minute", &c.mail_per_user_per_minute,
         "Mail API calls per user per minute (refill)"},
        {"mail", "mail_send_per_user_per_minute", &c.mail_send_per_user_per_minute,
         "Messages one user may send per minute"},
        {"mail", "mail_max_recipients", &c.mail_max_recipients, "Most recipients of one message"},
        {"sip", "sip_enabled", &c.sip_enabled,
         "Serve the SIP phone's API (/api/v1/sip); --no-sip turns it off"},
        {"sip", "sip_domain", &c.sip_domain, "SIP domain: user alice is sip:alice@<sip_domain>"},
        {"sip", "sip_websocket_url", &c.sip_websocket_url,
         "WebSocket URL the browser's SIP client connects to (wss://host[:port]; the pages' "
         "connect-src names its origin)"},
        {"sip", "sip_secret_file", &c.sip_secret_file,
         "Secret shared with Kamailio's auth_ephemeral (default <data_dir>/sip/secret, made on "
         "first run)"},
        {"sip", "sip_credential_ttl_s", &c.sip_credential_ttl_s,
         "Lifetime of a browser's SIP credential, 60 to 86400 seconds (also --sip-credential-ttl)"},
        {"sip", "sip_device_ttl_days", &c.sip_device_ttl_days,
         "Lifetime of a phone's SIP credential, 1 to 3650 days"},
        {"sip", "sip_max_devices_per_user", &c.sip_max_devices_per_user,
         "Phones one user may register, 1 to 1000"},
        {"sip", "sip_phone_proxy", &c.sip_phone_proxy,
         "host:port phones use for SIP over UDP and TCP"},
        {"sip", "sip_phone_tls_proxy", &c.sip_phone_tls_proxy,
         "host:port phones use for SIP over TLS (empty: TLS not offered)"},
        {"sip", "sip_per_user_burst", &c.sip_per_user_burst,
         "SIP credential requests and phone additions one user may make at once"},
        {"sip", "sip_per_user_per_minute", &c.sip_per_user_per_minute,
         "SIP credential requests and phone additions per user per minute (refill)"},
    };
}

std::string flag_of(const char* key) {
    std::string flag(key);
    for (char& ch : flag) {
        if (ch == '_') ch = '-';
    }
    return flag;
}

template <class T>
bool assign_integer(const toml::node& node, T* out) {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
        return false;
    *out = static_cast<T>(*v);
    return true;
}

bool assign(const toml::node& node, field_ptr field) {
    return std::visit(
        [&node](auto* ptr) -> bool {
            using T = std::remove_pointer_t<decltype(ptr)>;
            if constexpr (std::is_same_v<T, std::string>) {
                auto v = node.value<std::string>();
                if (!v || !node.is_string()) return false;
                *ptr = *v;
                return true;
            } else if constexpr (std::is_same_v<T, bool>) {
                if (!node.is_boolean()) return false;
                *ptr = *node.value<bool>();
                return true;
            } else if constexpr (std::is_same_v<T, double>) {
                if (!node.is_number()) return false;
                *ptr = *node.value<double>();
                return true;
            } else {
                if (!node.is_integer()) return false;
                return assign_integer(node, ptr);
            }
        },
        field);
}

}  // namespace

bool apply_toml(std::string_view toml_text, config& settings,
                const std::function<bool(const std::string&)>& given, std::string& error) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << "configuration file is not valid TOML: " << e.description() << " (line "
           << e.source().begin.line << ")";
        error = os.str();
        return false;
    }
    auto table = option_table(settings);
    for (auto& [section_name, section] : doc) {
        if (!section.is_table()) {
            error = "configuration: '" + std::string(section_name.str()) + "' must be a [section]";
            return false;
        }
        for (auto& [key, node] : *section.as_table()) {
            // Named captures: clang before 16 cannot capture structured bindings.
            auto it =
                std::find_if(table.begin(), table.end(),
                             [&in_section = section_name, &name = key](const option_entry& e) {
                                 return in_section.str() == e.section && name.str() == e.key;
                             });
            if (it == table.end()) {
                error = "configuration: unknown key " + std::string(section_name.str()) + "." +
                        std::string(key.str());
                return false;
            }
            if (given(flag_of(it->key))) continue;  // the command line wins
            if (!assign(node, it->field)) {
                error = "configuration: " + std::string(section_name.str()) + "." +
                        std::string(key.str()) + " has the wrong type or is out of range";
                return false;
            }
        }
    }
    return true;
}

int parse_command_line(int argc, char** argv, invocation& out) {
    CLI::App cli{"secms-server: Security.MS, end-to-end encrypted chat, calls and mail"};
    cli.fallthrough();
    std::string config_file;
    cli.add_option("--config", config_file, "TOML configuration file (flags override it)")
        ->check(CLI::ExistingFile);
    auto table = option_table(out.settings);
    std::map<std::string, CLI::Option*> options;
    for (auto& entry : table) {
        std::string flag = flag_of(entry.key);
        std::string help = std::string(entry.help) + "  [" + entry.section + "]";
        // The SIP credential lifetime also answers to the shorter name run scripts use.
        const std::string names =
            flag == "sip-credential-ttl-s" ? "--" + flag + ",--sip-credential-ttl" : "--" + flag;
        CLI::Option* opt = std::visit(
            [&](auto* ptr) { return cli.add_option(names, *ptr, help)->capture_default_str(); },
            entry.field);
        options[flag] = opt;
    }

    bool no_sip = false;
    cli.add_flag("--no-sip", no_sip, "Turn the SIP phone off (as --sip-enabled=false)")
        ->excludes(options.at("sip-enabled"));

    cli.require_subcommand(0, 1);
    auto* serve = cli.add_subcommand("serve", "Serve HTTPS (the default when no command is given)");
    auto* init = cli.add_subcommand(
        "init",
        "Set up the data directory as serve would (database, HSM token, TLS certificate, TURN "
        "secret, mail master secret, SIP secret), print where things are and exit");
    auto* user = cli.add_subcommand("user", "Administer user accounts");
    user->require_subcommand(1);
    auto* add =
        user->add_subcommand("add", "Create an account (password read from standard input)");
    add->add_option("username", out.username)->required();
    add->add_option("--role", out.role, "user, moderator or admin")->default_str("user");
    auto* passwd = user->add_subcommand("passwd", "Set a password (read from standard input)");
    passwd->add_option("username", out.username)->required();
    auto* role = user->add_subcommand("role", "Set a user's role");
    role->add_option("username", out.username)->required();
    role->add_option("role", out.role, "user, moderator or admin")->required();
    auto* disable = user->add_subcommand("disable", "Disable an account and end its logins");
    disable->add_option("username", out.username)->required();
    auto* enable = user->add_subcommand("enable", "Enable a disabled account");
    enable->add_option("username", out.username)->required();
    auto* list = user->add_subcommand("list", "List accounts");
    auto* remove = user->add_subcommand("delete", "Delete an account");
    remove->add_option("username", out.username)->required();

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    if (!config_file.empty()) {
        std::ifstream in(config_file);
        std::stringstream text;
        text << in.rdbuf();
        std::string error;
        auto given = [&](const std::string& flag) {
            return options.at(flag)->count() > 0 || (no_sip && flag == "sip-enabled");
        };
        if (!apply_toml(text.str(), out.settings, given, error)) {
            std::cerr << "secms-server: " << error << "\n";
            return 2;
        }
    }

    if (no_sip) out.settings.sip_enabled = false;

    out.what = command::serve;
    if (init->parsed()) out.what = command::init;
    if (add->parsed()) out.what = command::user_add;
    if (passwd->parsed()) out.what = command::user_passwd;
    if (role->parsed()) out.what = command::user_role;
    if (disable->parsed()) out.what = command::user_disable;
    if (enable->parsed()) out.what = command::user_enable;
    if (list->parsed()) out.what = command::user_list;
    if (remove->parsed()) out.what = command::user_delete;
    (void)serve;
    return -1;
}

}  // namespace secms::app

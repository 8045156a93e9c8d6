// secms-server: wiring of every module; `serve`, `init` and the `user` administration subcommands.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "server/admin/account_watch.hpp"
#include "server/admin/admin_routes.hpp"
#include "server/app/cli.hpp"
#include "server/app/data_dir.hpp"
#include "server/auth/accounts.hpp"
#include "server/auth/login_sessions.hpp"
#include "server/auth/login_throttle.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/calls/turn_credentials.hpp"
#include "server/channel/channel_hub.hpp"
#include "server/chat/chat_extension.hpp"
#include "server/chat/room_hub.hpp"
#include "server/core/log.hpp"
#include "server/core/metrics.hpp"
#include "server/hsm/key_store.hpp"
#include "server/hsm/softhsm.hpp"
#include "server/http/security_headers.hpp"
#include "server/http/server_context.hpp"
#include "server/mail/mail_extension.hpp"
#include "server/mail/mail_routes.hpp"
#include "server/mail/mail_settings.hpp"
#include "server/net/server.hpp"
#include "server/net/tls_context.hpp"
#include "server/sip/sip_routes.hpp"
#include "server/store/sqlite/sqlite_store.hpp"

namespace secms::app {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

int refuse(const std::string& why) {
    spdlog::critical("{}", why);
    std::cerr << "secms-server: " << why << "\n";
    return 1;
}

struct backends {
    std::unique_ptr<store::user_store> users;
    std::unique_ptr<hsm::key_store> keys;
};

bool uses_softhsm(const config& c) {
    return c.hsm_module.find("softhsm") != std::string::npos;
}

// What the operator does about a token that cannot be used at start, appended to the error.
std::string token_fix(hsm::hsm_error e, const config& c, bool own_softhsm, bool has_accounts) {
    switch (e) {
        case hsm::hsm_error::token_not_found:
            if (!has_accounts)
                return ". Prepare a token with that label (or set --hsm-token-label to yours), or "
                       "let a first run make one with --hsm-initialise true";
            return ". The user database holds accounts whose password hashes need this token's "
                   "pepper key, so no new token is made (it would lock every account out): "
                   "restore the token" +
                   (own_softhsm ? " directory " + (c.data_path() / "hsm" / "tokens").string() +
                                      " from a backup"
                                : std::string()) +
                   ", or point --hsm-module, --hsm-token-label or SOFTHSM2_CONF at it";
        case hsm::hsm_error::login_failed:
            return ". Put the token's user PIN in " + c.pin_file_path().string() +
                   " (--hsm-pin-file); a token locked after wrong PINs needs its user PIN set "
                   "again with the Security Officer PIN" +
                   (own_softhsm ? " (kept in " + (c.data_path() / "hsm" / "so.pin").string() + ")"
                                : std::string());
        case hsm::hsm_error::module_load_failed:
            return ". Install the PKCS#11 module (Debian: softhsm2) or point --hsm-module at it";
        default:
            break;
    }
    return {};
}

// Opens the user database and the key store, creating what a first run needs.
std::optional<backends> open_backends(const config& c, std::string& error) {
    if (!ensure_private_directory(c.data_path(), error)) return std::nullopt;
    auto users = store::open_sqlite_store(c.data_path() / "users.db");
    if (!users) {
        error = "cannot open the user database " + (c.data_path() / "users.db").string() + ": " +
                std::string(store::message(users.error()));
        return std::nullopt;
    }
    // A missing token is made (first run) only while no account exists: the password hashes
    // are peppered by the token's key, and a new token would lock every account out for good.
    auto accounts = (*users)->list_page(0, 1);
    if (!accounts) {
        error = "cannot read the user database " + (c.data_path() / "users.db").string() + ": " +
                std::string(store::message(accounts.error()));
        return std::nullopt;
    }
    const bool has_accounts = accounts->total > 0;
    hsm::token_config token;
    token.module_path = c.hsm_module;
    token.token_label = c.hsm_token_label;
    token.initialise_if_missing = c.hsm_initialise && !has_accounts;
    bool own_softhsm = uses_softhsm(c) && std::getenv("SOFTHSM2_CONF") == nullptr;
    if (own_softhsm) {
        // The embedded default: a SoftHSM2 token kept inside the data directory.
        auto conf = hsm::prepare_softhsm(c.data_path() / "hsm");
        if (!conf) {
            error =
                "cannot prepare the SoftHSM2 directory: " + std::string(hsm::message(conf.error()));
            return std::nullopt;
        }
        ::setenv("SOFTHSM2_CONF", conf->c_str(), 1);
    }
    if (!load_or_create_pin(c.pin_file_path(), own_softhsm, token.pin, error)) return std::nullopt;
    if (own_softhsm &&
        !load_or_create_pin(c.data_path() / "hsm" / "so.pin", true, token.so_pin, error)) {
        return std::nullopt;
    }
    auto keys = hsm::open_pkcs11_key_store(token);
    if (!keys) {
        error = "cannot use the PKCS#11 token '" + c.hsm_token_label + "' of module " +
                c.hsm_module + ": " + std::string(hsm::message(keys.error())) +
                token_fix(keys.error(), c, own_softhsm, has_accounts);
        return std::nullopt;
    }
    return backends{std::move(*users), std::move(*keys)};
}

auth::argon2_params argon2_of(const config& c) {
    return {c.argon2_memory_kib, c.argon2_passes};
}

// Settings refused before anything is made in the data directory; returns the TURN settings.
std::optional<calls::turn_settings> check_settings(const config& c, std::string& error) {
    if (!auth::meets_minimum(argon2_of(c))) {
        error = "Argon2id parameters below the OWASP minimum (m=19456 KiB, t=2)";
        return std::nullopt;
    }
    // Above 8192 bits an RSA check costs too much CPU per signature; below 2048 it is weak.
    if (c.certificate_max_rsa_bits < 2048 || c.certificate_max_rsa_bits > 8192) {
        error = "certificates.certificate_max_rsa_bits must be between 2048 and 8192";
        return std::nullopt;
    }
    auto urls = calls::parse_ice_urls(c.turn_urls);
    if (!urls) {
        error = "turn.turn_urls: " + std::string(calls::message(urls.error()));
        return std::nullopt;
    }
    const std::chrono::seconds ttl(c.turn_credential_ttl_s);
    if (ttl < calls::min_credential_ttl || ttl > calls::max_credential_ttl) {
        error = "turn.turn_credential_ttl_s must be between 60 and 172800";
        return std::nullopt;
    }
    return calls::turn_settings{std::move(*urls), ttl, c.turn_force_relay};
}

// The [mail] settings: refused before anything is made in the data directory.
bool check_mail_settings(const config& c, std::string& error) {
    if (!c.mail_enabled) return true;
    auto fail = [&error](std::string why) {
        error = "mail." + std::move(why);
        return false;
    };
    if (!mail::valid_domain(c.mail_domain)) return fail("mail_domain is not a domain name");
    if (c.mail_imap_host.empty() || c.mail_imap_port == 0)
        return fail("mail_imap_host and mail_imap_port must be set");
    if (c.mail_lmtp_host.empty() || c.mail_lmtp_port == 0)
        return fail("mail_lmtp_host and mail_lmtp_port must be set");
    if (!mail::parse_tls_mode(c.mail_imap_tls))
        return fail("mail_imap_tls must be none, starttls or tls");
    auto smarthost_tls = mail::parse_tls_mode(c.mail_smarthost_tls);
    if (!smarthost_tls) return fail("mail_smarthost_tls must be none, starttls or tls");
    if (!c.mail_smarthost_host.empty()) {
        if (c.mail_smarthost_port == 0) return fail("mail_smarthost_port must be set");
        // A password or the mail itself in clear text is allowed only on this machine.
        if (*smarthost_tls == mail::tls_mode::none &&
            !mail::is_loopback_host(c.mail_smarthost_host)) {
            return fail("mail_smarthost_tls none is only allowed for a loopback smarthost");
        }
        if (!c.mail_smarthost_username.empty() && c.mail_smarthost_password_file.empty())
            return fail("mail_smarthost_username needs mail_smarthost_password_file");
    }
    if (c.mail_master_user.empty() ||
        c.mail_master_user.find_first_of("*@ \t\r\n\"") != std::string::npos) {
        return fail("mail_master_user must be a plain name");
    }
    if (c.mail_max_message_bytes < 64 * 1024 || c.mail_max_message_bytes > 512u * 1024 * 1024)
        return fail("mail_max_message_bytes must be between 65536 and 536870912");
    if (c.mail_timeout_s < 1 || c.mail_timeout_s > 600)
        return fail("mail_timeout_s must be between 1 and 600");
    if (c.mail_idle_refresh_s < 60 || c.mail_idle_refresh_s > 1740)
        return fail("mail_idle_refresh_s must be between 60 and 1740 (RFC 2177: under 29 minutes)");
    if (c.mail_max_recipients < 1 || c.mail_max_recipients > 1000)
        return fail("mail_max_recipients must be between 1 and 1000");
    if (!(c.mail_per_user_burst >= 1) || !(c.mail_per_user_per_minute > 0) ||
        !(c.mail_send_per_user_per_minute > 0)) {
        return fail(
            "mail_per_user_burst, mail_per_user_per_minute and "
            "mail_send_per_user_per_minute must be positive");
    }
    return true;
}

// The [sip] settings as the SIP routes take them.
sip::sip_settings sip_settings_of(const config& c) {
    sip::sip_settings s;
    s.domain = c.sip_domain;
    s.websocket_url = c.sip_websocket_url;
    s.credential_ttl = std::chrono::seconds(c.sip_credential_ttl_s);
    s.device_ttl_days = c.sip_device_ttl_days;
    s.max_devices_per_user = c.sip_max_devices_per_user;
    s.phone_proxy = c.sip_phone_proxy;
    s.phone_tls_proxy = c.sip_phone_tls_proxy;
    s.per_user_burst = c.sip_per_user_burst;
    s.per_user_per_minute = c.sip_per_user_per_minute;
    s.limiter_max_keys = std::max<std::size_t>(1, c.limiter_max_keys);
    return s;
}

// The [sip] settings: refused before anything is made in the data directory.
bool check_sip_settings(const config& c, std::string& error) {
    if (!c.sip_enabled) return true;
    auto checked = sip::check_settings(sip_settings_of(c));
    if (checked) return true;
    std::string keys;
    switch (checked.error()) {
        case sip::sip_error::invalid_domain:
            keys = "sip_domain '" + c.sip_domain + "'";
            break;
        case sip::sip_error::invalid_websocket_url:
            keys = "sip_websocket_url '" + c.sip_websocket_url + "'";
            break;
        case sip::sip_error::invalid_proxy:
            keys = "sip_phone_proxy '" + c.sip_phone_proxy + "', sip_phone_tls_proxy '" +
                   c.sip_phone_tls_proxy + "'";
            break;
        case sip::sip_error::invalid_ttl:
            keys = "sip_credential_ttl_s, sip_device_ttl_days";
            break;
        default:
            keys = "sip_max_devices_per_user, sip_per_user_burst, sip_per_user_per_minute";
            break;
    }
    error = "sip." + keys + ": " + std::string(sip::message(checked.error()));
    return false;
}

// What the first run makes in the data directory and every later run reuses.
struct data_directory {
    backends opened;
    calls::turn_secret turn_secret;
    core::secret_string mail_master_secret;     // empty when mail is off
    std::optional<sip::sip_secret> sip_secret;  // absent when SIP is off
};

// The set-up shared by `serve` and `init`: the user database and the token, the TLS certificate
// (self-signed unless configured) and the TURN secret. Each step keeps what already exists.
std::optional<data_directory> prepare_data_directory(const config& c, std::string& error) {
    auto opened = open_backends(c, error);
    if (!opened) return std::nullopt;
    if (!ensure_self_signed_certificate(c.certificate_path(), c.private_key_path(), error)) {
        return std::nullopt;
    }
    auto turn_secret = load_or_create_turn_secret(c.turn_secret_path(), error);
    if (!turn_secret) return std::nullopt;
    core::secret_string mail_master_secret;
    if (c.mail_enabled) {
        auto secret =
            load_or_create_hex_secret(c.mail_master_secret_path(), "mail master secret", error);
        if (!secret) return std::nullopt;
        mail_master_secret = std::move(*secret);
    }
    // Kamailio's auth_ephemeral secret (scripts/sip.sh renders it into its configuration).
    std::optional<sip::sip_secret> sip_secret;
    if (c.sip_enabled) {
        auto text = load_or_create_hex_secret(c.sip_secret_path(), "SIP secret", error);
        if (!text) return std::nullopt;
        auto parsed = sip::parse_sip_secret(text->reveal());
        if (!parsed) {
            error = "the SIP secret file " + c.sip_secret_path().string() + ": " +
                    std::string(sip::message(parsed.error()));
            return std::nullopt;
        }
        sip_secret.emplace(std::move(*parsed));
    }
    return data_directory{std::move(*opened), std::move(*turn_secret),
                          std::move(mail_master_secret), std::move(sip_secret)};
}

// Raises the soft limit on open descriptors to the hard limit (systemd's default soft limit,
// 1024, equals the default max_connections, and every connection is a descriptor), and warns
// when even the hard limit leaves too little room for max_connections plus the descriptors of
// the redirect port, the database, the token and the logs.
void raise_descriptor_limit(const config& c) {
    constexpr rlim_t margin = 64;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    const rlim_t wanted =
        static_cast<rlim_t>(c.max_connections) + c.max_redirect_connections + margin;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
        spdlog::warn(
            "the open-file limit ({}) is below max_connections + max_redirect_connections + {} "
            "({}): raise LimitNOFILE or lower max_connections",
            static_cast<unsigned long long>(lim.rlim_cur), static_cast<unsigned long long>(margin),
            static_cast<unsigned long long>(wanted));
    }
}

// The io_context of serve(). Its pending handlers — the coroutine frames of open connections —
// refer to the server and the HTTP context, which are declared after it and so destroyed
// before it; destroy_pending() destroys those handlers first, while everything they refer to
// still exists (~io_context would do it only after).
class serve_io_context : public asio::io_context {
  public:
    using asio::io_context::io_context;
    void destroy_pending() { shutdown(); }
};

unsigned threads_or_cores(unsigned n) {
    return n != 0 ? n : std::max(1u, std::thread::hardware_concurrency());
}

int serve(const config& c) {
    std::string error;
    auto turn_settings = check_settings(c, error);
    if (!turn_settings) return refuse(error);
    if (!check_mail_settings(c, error)) return refuse(error);
    if (!check_sip_settings(c, error)) return refuse(error);
    auto prepared = prepare_data_directory(c, error);
    if (!prepared) return refuse(error);
    backends* opened = &prepared->opened;
    auto tls = net::make_server_tls_context(c.certificate_path(), c.private_key_path(), error);
    if (!tls) return refuse(error);
    std::error_code ec;
    if (!fs::is_regular_file(fs::path(c.web_root) / "index.html", ec)) {
        spdlog::warn("no front end at {} (run `npm run build`); only the API is served",
                     c.web_root);
    }

    core::system_clock clock;
    core::metrics metrics;
    auth::password_hasher hasher(*opened->keys, argon2_of(c));
    auth::account_service accounts(*opened->users, hasher, clock);
    auth::login_sessions sessions({std::chrono::seconds(c.session_idle_timeout_s),
                                   std::chrono::seconds(c.session_absolute_timeout_s),
                                   std::max<std::size_t>(1, c.session_max_logins),
                                   std::max<std::size_t>(1, c.session_max_per_user)},
                                  clock);
    auth::rate_limiter login_ip(
        {c.login_per_ip_burst, c.login_per_ip_per_minute, c.limiter_max_keys}, clock);
    auth::login_throttle login_account(
        {c.login_free_failures, std::chrono::seconds(c.login_delay_base_s),
         std::chrono::seconds(c.login_delay_max_s), c.login_account_ceiling,
         std::chrono::milliseconds(c.login_account_slowdown_ms),
         std::chrono::seconds(c.login_failure_window_s), c.limiter_max_keys},
        clock);
    auth::rate_limiter register_ip(
        {c.register_per_ip_burst, c.register_per_ip_per_minute, c.limiter_max_keys}, clock);
    auto turn = calls::turn_issuer::make(std::move(*turn_settings),
                                         std::move(prepared->turn_secret), clock);
    if (!turn) return refuse("turn: " + std::string(calls::message(turn.error())));
    auth::rate_limiter turn_per_user(
        {c.turn_per_user_burst, c.turn_per_user_per_minute, c.limiter_max_keys}, clock);
    http::static_files files(c.web_root);
    channel::channel_settings channel_settings{c.effective_public_origin(),
                                               std::chrono::seconds(120),
                                               std::chrono::seconds(c.channel_offer_timeout_s),
                                               std::chrono::seconds(c.channel_idle_timeout_s)};
    channel_settings.max_pending_offers_per_peer = c.control_max_pending_offers_per_peer;
    channel_settings.max_pending_offers = c.control_max_pending_offers;
    channel_settings.max_websockets_per_user = std::max<std::size_t>(1, c.max_websockets_per_user);
    channel_settings.control.membership = {c.control_membership_burst,
                                           c.control_membership_per_minute};
    channel_settings.control.query = {c.control_query_burst, c.control_query_per_minute};
    channel_settings.control.channel = {c.control_channel_burst, c.control_channel_per_minute};
    channel_settings.control.other = {c.control_other_burst, c.control_other_per_minute};
    channel_settings.certificate.max_certificate_bytes = c.certificate_max_bytes;
    channel_settings.certificate.max_rsa_bits = c.certificate_max_rsa_bits;
    channel_settings.certificate.max_packets = c.certificate_max_packets;
    channel_settings.certificate.max_user_ids = c.certificate_max_user_ids;
    channel_settings.certificate.max_subkeys = c.certificate_max_subkeys;
    channel_settings.certificate.max_signatures = c.certificate_max_signatures;
    channel_settings.certificate.max_self_signatures_per_user_id =
        c.certificate_max_self_signatures_per_user_id;
    channel_settings.certificate.max_signatures_per_subkey =
        c.certificate_max_signatures_per_subkey;
    channel_settings.certificate_submissions = {
        c.certificate_submit_per_connection_burst, c.certificate_submit_per_connection_per_minute,
        c.certificate_submit_per_account_burst, c.certificate_submit_per_account_per_minute};
    channel::channel_hub channels(metrics, clock, channel_settings);
    asio::thread_pool work_pool(threads_or_cores(c.work_threads));

    // Mail (docs/api.md "Mail"): Dovecot over IMAP/LMTP as the master user, a smarthost for
    // other domains. Absent when mail_enabled is false.
    std::unique_ptr<mail::mail_service> mail_service;
    std::unique_ptr<mail::mail_extension> mail_events;
    std::unique_ptr<mail::mail_routes> mail_routes;
    if (c.mail_enabled) {
        mail::service_settings ms;
        ms.domain = c.mail_domain;
        for (char& ch : ms.domain)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const std::chrono::seconds timeout(c.mail_timeout_s);
        ms.imap = {c.mail_imap_host, c.mail_imap_port, *mail::parse_tls_mode(c.mail_imap_tls),
                   timeout};
        ms.lmtp.host = c.mail_lmtp_host;
        ms.lmtp.port = c.mail_lmtp_port;
        ms.lmtp.tls = mail::tls_mode::none;
        ms.lmtp.timeout = timeout;
        ms.master_user = c.mail_master_user;
        ms.master_secret = std::move(prepared->mail_master_secret);
        if (!c.mail_smarthost_host.empty()) {
            mail::transport_endpoint relay;
            relay.host = c.mail_smarthost_host;
            relay.port = c.mail_smarthost_port;
            relay.tls = *mail::parse_tls_mode(c.mail_smarthost_tls);
            relay.timeout = timeout;
            relay.username = c.mail_smarthost_username;
            if (!c.mail_smarthost_password_file.empty() &&
                !read_secret_file(c.mail_smarthost_password_file, "smarthost password",
                                  relay.password, error)) {
                return refuse(error);
            }
            ms.smarthost = std::move(relay);
        }
        ms.max_message_bytes = c.mail_max_message_bytes;
        ms.timeout = timeout;
        ms.idle_refresh = std::chrono::seconds(c.mail_idle_refresh_s);
        ms.allow_external_accounts = c.mail_allow_external_accounts;
        ms.external_allow_private = c.mail_external_allow_private;
        ms.per_user_burst = c.mail_per_user_burst;
        ms.per_user_per_minute = c.mail_per_user_per_minute;
        ms.send_per_user_per_minute = c.mail_send_per_user_per_minute;
        ms.max_recipients = c.mail_max_recipients;
        store::user_store* users = opened->users.get();
        mail_service = std::make_unique<mail::mail_service>(
            std::move(ms), work_pool, metrics, clock, [users](std::string_view name) {
                return static_cast<bool>(users->find_by_name(name));
            });
        mail_events = std::make_unique<mail::mail_extension>(*mail_service);
        mail_service->set_notifier(mail_events.get());
        mail_routes = std::make_unique<mail::mail_routes>(*mail_service);
        channels.add_extension(*mail_events);
        mail_service->start();
        // A deleted account's mail is erased, and so is whatever a name still holds when it is
        // registered (docs/operations.md "Mail"); a registration whose erase fails is refused.
        // A deleted account's logins end once the userid is refused a mailbox and before its
        // running job is waited for, so none of them stores mail behind the erase (ending them
        // first closed the mailbox without waiting for that job).
        accounts.set_name_eraser(
            [svc = mail_service.get(), &sessions](std::int64_t id, std::string_view n) {
                return static_cast<bool>(svc->erase_mailbox(id, n, [&sessions, id] {
                    if (id != 0) sessions.end_all_for_user(id);
                }));
            });
    }
    sessions.on_ended([&channels, &mail_service](const std::string& id) {
        channels.end_login_session(id);
        if (mail_service) mail_service->end_login_session(id);
    });

    // SIP (docs/api.md "SIP"): credentials for Kamailio's auth_ephemeral, and the user's phones in
    // the database (a connection of its own), which Kamailio reads to refuse a revoked phone.
    std::unique_ptr<store::sip_device_store> sip_devices;
    std::unique_ptr<sip::sip_routes> sip_routes;
    std::string page_policy;
    if (c.sip_enabled) {
        auto devices = store::open_sqlite_sip_device_store(c.data_path() / "users.db");
        if (!devices) {
            return refuse("cannot open the SIP devices of the user database: " +
                          std::string(store::message(devices.error())));
        }
        sip_devices = std::move(*devices);
        auto routes = sip::sip_routes::make(sip_settings_of(c), std::move(*prepared->sip_secret),
                                            *sip_devices, clock);
        if (!routes) return refuse("sip: " + std::string(sip::message(routes.error())));
        sip_routes = std::move(*routes);
        // check_sip_settings accepted the URL, so it has an origin.
        page_policy =
            http::page_content_security_policy(*sip::websocket_origin(c.sip_websocket_url));
    }

    // Chat rooms: volatile rooms in memory, bans in the database (a second connection to it).
    auto bans = store::open_sqlite_ban_store(c.data_path() / "users.db");
    if (!bans) {
        return refuse("cannot open the bans of the user database: " +
                      std::string(store::message(bans.error())));
    }
    chat::room_settings room_settings;
    room_settings.flood_per_minute = c.chat_flood_per_minute;
    room_settings.control_per_minute = c.chat_control_per_minute;
    room_settings.max_message_chars = c.chat_max_message_chars;
    room_settings.max_rooms = c.chat_max_rooms;
    room_settings.max_members_per_room = c.chat_max_members_per_room;
    room_settings.max_rooms_per_user = c.chat_max_rooms_per_user;
    room_settings.max_private_rooms = c.chat_max_private_rooms;
    room_settings.max_private_rooms_per_user = c.chat_max_private_rooms_per_user;
    room_settings.max_fanout_bytes = c.control_max_fanout_bytes;
    chat::room_hub rooms(*opened->users, **bans, clock, room_settings);
    if (!rooms.load_bans()) return refuse("cannot read the chat bans from the user database");
    // Declared before the io_context: connections destroyed with it still tell the rooms.
    chat::chat_extension chat_rooms(rooms, work_pool);
    channels.add_extension(chat_rooms);

    // Administration (docs/api.md "Admin"): the API for admin logins, and the account watch that
    // makes the `user` subcommands' changes reach this running server (docs/operations.md).
    admin::admin_settings admin_settings;
    admin_settings.limiter_max_keys = c.limiter_max_keys;
    admin::admin_routes admin_routes(admin_settings, *opened->users, clock);
    admin::account_watch account_watch(*opened->users, sessions);
    // A new role reaches the live logins (login_sessions::update_role) and the chat rooms'
    // moderation rights; an open WebSocket's hello keeps the old one until it reconnects.
    admin_routes.on_role_changed(
        [&rooms](std::int64_t userid, store::role role) { rooms.set_role(userid, role); });
    account_watch.on_role_changed(
        [&rooms](std::int64_t userid, store::role role) { rooms.set_role(userid, role); });

    raise_descriptor_limit(c);
    serve_io_context io(static_cast<int>(threads_or_cores(c.io_threads)));
    http::server_context http_ctx{
        {c.effective_public_origin(), c.allowed_origins(), c.metrics_public, page_policy},
        accounts,
        sessions,
        {login_ip, login_account, register_ip},
        metrics,
        files,
        work_pool};
    http_ctx.keys = opened->keys.get();
    http_ctx.turn = &*turn;
    http_ctx.turn_per_user = &turn_per_user;
    http_ctx.mail = mail_routes.get();
    http_ctx.sip = sip_routes.get();
    http_ctx.admin = &admin_routes;
    net::net_limits limits;
    limits.max_connections = c.max_connections;
    limits.max_connections_per_ip = c.max_connections_per_ip;
    limits.max_redirect_connections = c.max_redirect_connections;
    limits.max_header_bytes = c.max_header_bytes;
    limits.max_body_bytes = c.max_body_bytes;
    if (c.mail_enabled)
        limits.max_mail_body_bytes = std::uint64_t{c.mail_max_message_bytes} + 64 * 1024;
    limits.handshake_timeout = std::chrono::seconds(c.handshake_timeout_s);
    limits.read_timeout = std::chrono::seconds(c.read_timeout_s);
    limits.idle_timeout = std::chrono::seconds(c.idle_timeout_s);
    limits.ws_max_message_bytes = c.ws_max_message_bytes;
    limits.ws_idle_timeout = std::chrono::seconds(c.ws_idle_timeout_s);
    limits.ws_queue_messages = c.ws_queue_messages;
    net::server server(io, {http_ctx, channels, clock, limits, *tls});

    boost::system::error_code addr_ec;
    auto address = asio::ip::make_address(c.listen, addr_ec);
    if (addr_ec) return refuse("--listen " + c.listen + " is not an IP address");
    net::endpoints where{{address, c.https_port}, std::nullopt};
    if (c.http_port != 0) where.http_redirect = asio::ip::tcp::endpoint(address, c.http_port);
    if (!server.start(where, error)) return refuse(error);

    // Expired logins, idle channels and stale offers are swept every few seconds, so they end
    // without waiting for traffic.
    // The sweep timer, the signals and the grace timer live on one strand: the signal handler
    // cancels the sweep timer, which must not race the sweep re-arming it on another thread.
    auto control = asio::make_strand(io);
    asio::steady_timer sweeper(control);
    std::function<void()> schedule_sweep = [&] {
        sweeper.expires_after(std::chrono::seconds(c.sweep_interval_s));
        sweeper.async_wait([&](boost::system::error_code wait_ec) {
            if (wait_ec) return;
            sessions.sweep();
            channels.sweep();
            asio::post(work_pool, [&rooms] { rooms.sweep(); });  // may write the database
            schedule_sweep();
        });
    };
    schedule_sweep();
    account_watch.start();

    asio::signal_set signals(control, SIGINT, SIGTERM);
    asio::steady_timer grace(control);
    signals.async_wait([&](boost::system::error_code, int signo) {
        spdlog::info("signal {}: shutting down", signo);
        server.stop();
        sweeper.cancel();
        if (mail_service) mail_service->stop();  // its timers and IDLE waits hold the work pool
        // Requests in flight get a moment to finish; then everything stops.
        grace.expires_after(std::chrono::seconds(2));
        grace.async_wait([&](boost::system::error_code) { io.stop(); });
    });

    spdlog::info("Security.MS is serving {} (listening on {}:{})", c.effective_public_origin(),
                 c.listen, c.https_port);
    std::cout << "Security.MS is ready: " << c.effective_public_origin() << std::endl;

    std::vector<std::thread> threads;
    unsigned n = threads_or_cores(c.io_threads);
    for (unsigned i = 1; i < n; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    account_watch.stop();
    work_pool.join();
    // Connections still open (a client that never answered the close frame) are destroyed
    // now, before the server and the HTTP context their sessions refer to.
    io.destroy_pending();
    spdlog::info("stopped");
    return 0;
}

// `init`: the first-run set-up of `serve` without serving, so scripts can render the companion
// configuration (coturn's static-auth-secret) before the server starts. Idempotent.
int init(const config& c) {
    std::string error;
    auto turn_settings = check_settings(c, error);
    if (!turn_settings) return refuse(error);
    if (!check_mail_settings(c, error)) return refuse(error);
    if (!check_sip_settings(c, error)) return refuse(error);
    auto prepared = prepare_data_directory(c, error);
    if (!prepared) return refuse(error);
    std::cout << "data directory:   " << fs::absolute(c.data_path()).string() << "\n"
              << "user database:    " << fs::absolute(c.data_path() / "users.db").string() << "\n"
              << "PKCS#11 token:    " << c.hsm_token_label << " (module " << c.hsm_module << ")\n"
              << "HSM PIN file:     " << fs::absolute(c.pin_file_path()).string() << "\n"
              << "TLS certificate:  " << fs::absolute(c.certificate_path()).string() << "\n"
              << "TLS private key:  " << fs::absolute(c.private_key_path()).string() << "\n"
              << "TURN secret file: " << fs::absolute(c.turn_secret_path()).string() << "\n";
    if (c.mail_enabled) {
        std::cout << "mail secret file: " << fs::absolute(c.mail_master_secret_path()).string()
                  << "\n";
    }
    if (c.sip_enabled) {
        std::cout << "SIP secret file:  " << fs::absolute(c.sip_secret_path()).string() << "\n";
    }
    spdlog::info("data directory {} is ready", c.data_dir);
    return 0;
}

// Reads a password from standard input; without echo when it is a terminal.
core::secret_string read_password(const char* prompt) {
    bool tty = ::isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty) {
        std::cerr << prompt << std::flush;
        ::tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return core::secret_string(std::move(line));
}

int administer(const invocation& inv) {
    const config& c = inv.settings;
    // The user commands work on an existing data directory only: opening a missing one would
    // make a new, empty one (database, token), and `user list` would then list nobody and exit
    // 0, so a job building Postfix's table of accounts from a mistyped path would empty it.
    {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(c.data_path() / "users.db", ec)) {
            std::cerr << "secms-server: " << c.data_path().string()
                      << " is not an initialised data directory (no readable users.db"
                      << (ec ? ": " + ec.message() : std::string()) << "); run 'secms-server "
                      << "--data-dir <dir> init' first, or name the right one with --data-dir\n";
            return 2;
        }
    }
    std::string error;
    auto opened = open_backends(c, error);
    if (!opened) return refuse(error);
    core::system_clock clock;
    auth::password_hasher hasher(*opened->keys, argon2_of(c));
    auth::account_service accounts(*opened->users, hasher, clock);
    // With mail on, `user add` and `user delete` erase the name's mailbox as the HTTP paths do
    // (over IMAP as the master user; the server itself need not run).
    std::optional<mail::service_settings> mail_login;
    if (c.mail_enabled && (inv.what == command::user_add || inv.what == command::user_delete)) {
        if (!check_mail_settings(c, error)) return refuse(error);
        auto secret =
            load_or_create_hex_secret(c.mail_master_secret_path(), "mail master secret", error);
        if (!secret) return refuse(error);
        mail_login.emplace();
        mail_login->imap = {c.mail_imap_host, c.mail_imap_port,
                            *mail::parse_tls_mode(c.mail_imap_tls),
                            std::chrono::seconds(c.mail_timeout_s)};
        mail_login->master_user = c.mail_master_user;
        mail_login->master_secret = std::move(*secret);
        accounts.set_name_eraser([&mail_login](std::int64_t id, std::string_view n) {
            return static_cast<bool>(mail::erase_local_mailbox(*mail_login, id, n));
        });
    }
    const std::string mail_server =
        "the mail server (IMAP " + c.mail_imap_host + ":" + std::to_string(c.mail_imap_port) + ")";
    auto report = [](auth::auth_error e) {
        std::cerr << "secms-server: " << auth::message(e) << "\n";
        return 1;
    };
    auto role_of = [](const std::string& name) {
        return store::parse_role(name.empty() ? "user" : name);
    };

    switch (inv.what) {
        case command::user_add: {
            auto role = role_of(inv.role);
            if (!role) return refuse("unknown role '" + inv.role + "' (user, moderator, admin)");
            auto pw = read_password("Password: ");
            auto made = accounts.register_user(inv.username, pw, *role);
            if (!made && made.error() == auth::auth_error::mail_unavailable) {
                return refuse("no account created: " + mail_server +
                              " is not reachable, so the mailbox a former account of this name "
                              "may have left could not be erased. Start Dovecot (scripts/"
                              "dovecot.sh) and try again, or set mail_enabled = false when "
                              "this server has no mail.");
            }
            if (!made) return report(made.error());
            std::cout << "created " << made->username << " (userid " << made->userid << ", "
                      << store::to_string(made->role) << ")\n";
            return 0;
        }
        case command::user_passwd: {
            auto pw = read_password("New password: ");
            if (auto done = accounts.admin_set_password(inv.username, pw); !done)
                return report(done.error());
            std::cout << "password set for " << inv.username << "\n";
            return 0;
        }
        case command::user_role: {
            auto role = role_of(inv.role);
            if (!role) return refuse("unknown role '" + inv.role + "' (user, moderator, admin)");
            auto done = accounts.admin_set_role(inv.username, *role);
            if (!done) return report(done.error());
            std::cout << done->username << " is now " << store::to_string(done->role) << "\n";
            return 0;
        }
        case command::user_disable:
        case command::user_enable: {
            bool disable = inv.what == command::user_disable;
            auto done = accounts.admin_set_disabled(inv.username, disable);
            if (!done) return report(done.error());
            std::cout << done->username << (disable ? " is disabled\n" : " is enabled\n");
            return 0;
        }
        case command::user_delete: {
            bool mail_erased = true;
            auto done = accounts.admin_delete(inv.username, &mail_erased);
            if (!done) return report(done.error());
            std::cout << "deleted " << done->username << "\n";
            if (mail_login && mail_erased) std::cout << "mailbox erased\n";
            if (!mail_erased) {
                std::cerr << "secms-server: " << mail_server
                          << " is not reachable: the mailbox was not erased now; it will be "
                             "erased when the name is registered again\n";
            }
            return 0;
        }
        case command::user_list: {
            auto users = accounts.list();
            if (!users) return report(users.error());
            for (const auto& u : *users) {
                std::cout << u.userid << "\t" << u.username << "\t" << store::to_string(u.role)
                          << (u.disabled ? "\tdisabled" : "") << "\n";
            }
            return 0;
        }
        case command::serve:
        case command::init:
            break;
    }
    return 1;
}

}  // namespace
}  // namespace secms::app

int main(int argc, char** argv) {
    using namespace secms::app;
    invocation inv;
    int code = parse_command_line(argc, argv, inv);
    if (code >= 0) return code;
    // libetpan writes to its IMAP/LMTP/SMTP sockets with write(): a peer that closed its end
    // must give EPIPE (an error of that command), not SIGPIPE, which would end the server.
    std::signal(SIGPIPE, SIG_IGN);
    secms::core::init_logging(inv.settings.log_level, inv.settings.log_format == "json"
                                                          ? secms::core::log_format::json
                                                          : secms::core::log_format::text);
    try {
        switch (inv.what) {
            case command::serve:
                return serve(inv.settings);
            case command::init:
                return init(inv.settings);
            default:
                return administer(inv);
        }
    } catch (const std::exception& e) {
        return refuse(std::string("fatal: ") + e.what());
    }
}

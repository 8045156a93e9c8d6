// The response headers of DESIGN.md §8, set on every response the server sends: pages, assets,
// API answers, errors and redirects alike.
#pragma once

#include <string>
#include <string_view>

#include "server/http/types.hpp"

namespace secms::http {

// script/style from self only, no inline code, no eval; Trusted Types enforced for script sinks.
inline constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "media-src 'self' blob:; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'; require-trusted-types-for 'script'; "
    // The only Trusted Types policies the app's pages create (grep createPolicy in web/src
    // outside web/src/mail-frame/, and its bundled Lit): lit-html's template policy and the
    // crypto Worker URL policy. The pages never turn a string into HTML through a sink: received
    // mail HTML is parsed only in the sandboxed mail frame (its own policy below); the one HTML
    // the app page parses, the user's own signed rich draft reopened for editing, goes through
    // Document.parseHTML (no Trusted Types sink) and DOMPurify. Named, so an injected script
    // cannot create a "default" policy that would bless every string; no 'allow-duplicates', so
    // a second policy with one of these names is refused too.
    "trusted-types lit-html secms-crypto-worker";

// The crypto Worker's own script (web/build.mjs names it /assets/worker-<hash>.js): a Worker
// takes its policy from its script's response, so it gets the page policy plus
// 'wasm-unsafe-eval' in script-src — WebAssembly compilation only, not JavaScript eval — which
// OpenPGP.js needs for the Argon2 S2K protecting the stored key (RFC 9580 §3.7.1.4). The pages
// keep the stricter policy above.
inline constexpr std::string_view worker_content_security_policy =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; media-src 'self' blob:; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'; require-trusted-types-for 'script'; "
    "trusted-types lit-html secms-crypto-worker";

// The sandboxed frame a mail's HTML is shown in (web/dist/mail-frame.html): its own script only,
// the mail's inline styles, images only from data:/blob: (no remote content, so no tracking
// pixel), and it may be framed by our pages only. mail-frame-remote.html is the same page for
// a message whose remote images the user chose to load: https: images too.
inline constexpr std::string_view mail_frame_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data: blob:; "
    "font-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; "
    "object-src 'none'; require-trusted-types-for 'script'; trusted-types secms-mail-frame";
inline constexpr std::string_view mail_frame_remote_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
    "img-src data: blob: https:; font-src data:; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'; require-trusted-types-for 'script'; "
    "trusted-types secms-mail-frame";

inline constexpr std::string_view worker_script_prefix = "/assets/worker-";

inline constexpr std::string_view strict_transport_security =
    "max-age=63072000; includeSubDomains; preload";

inline constexpr std::string_view permissions_policy =
    "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), "
    "usb=(), serial=(), bluetooth=(), hid=(), midi=(), accelerometer=(), gyroscope=(), "
    "magnetometer=(), interest-cohort=()";

// Logout and account deletion: the browser drops its cache, cookies and storage for the origin.
inline constexpr std::string_view clear_site_data = "\"cache\", \"cookies\", \"storage\"";

void apply_security_headers(beast_http::response_header<>& header);

/// The page policy with `connect_origin` added to connect-src (the SIP WebSocket the VoIP tab's
/// SIP.js connects to, e.g. "wss://sip.example.org:7443"). The caller passes an origin it has
/// validated (scheme, host and port only): the text is inserted as it is.
std::string page_content_security_policy(std::string_view connect_origin);

/// True for the crypto Worker's script: /assets/worker-<name>.js, no query, no other path.
bool is_worker_script(std::string_view target);

/// After apply_security_headers: the Worker's script gets worker_content_security_policy.
void apply_worker_script_policy(beast_http::response_header<>& header, std::string_view target);

/// After apply_security_headers: exactly "/mail-frame.html" and "/mail-frame-remote.html" get
/// their frame policies and may be framed by our own pages (X-Frame-Options SAMEORIGIN).
void apply_mail_frame_policy(beast_http::response_header<>& header, std::string_view target);

}  // namespace secms::http

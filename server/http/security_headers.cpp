#include "server/http/security_headers.hpp"

namespace secms::http {

void apply_security_headers(beast_http::response_header<>& h) {
    h.set(beast_http::field::strict_transport_security, strict_transport_security);
    h.set("Content-Security-Policy", content_security_policy);
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Embedder-Policy", "require-corp");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
    h.set("Referrer-Policy", "no-referrer");
    h.set("X-Content-Type-Options", "nosniff");
    h.set(beast_http::field::x_frame_options, "DENY");
    h.set("Permissions-Policy", permissions_policy);
    // No response may be kept by a browser or proxy cache (the specification's no-cache rule).
    h.set(beast_http::field::cache_control, "no-store, no-cache, must-revalidate, max-age=0");
    h.set(beast_http::field::pragma, "no-cache");
    h.set(beast_http::field::expires, "0");
    h.set(beast_http::field::server, "secms");
}

static_assert(content_security_policy.find("connect-src 'self';") != std::string_view::npos,
              "page_content_security_policy extends connect-src 'self'");

std::string page_content_security_policy(std::string_view connect_origin) {
    std::string policy(content_security_policy);
    if (connect_origin.empty()) return policy;
    constexpr std::string_view directive = "connect-src 'self'";
    const auto at = policy.find(directive);
    policy.insert(at + directive.size(), " " + std::string(connect_origin));
    return policy;
}

bool is_worker_script(std::string_view target) {
    if (!target.starts_with(worker_script_prefix) || !target.ends_with(".js")) return false;
    const auto name = target.substr(worker_script_prefix.size());
    // One file name of the build's alphabet: no "/", "?", "%" or ".." can widen the match.
    return name.size() > 3 &&
           name.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string_view::npos &&
           name.find("..") == std::string_view::npos;
}

void apply_worker_script_policy(beast_http::response_header<>& h, std::string_view target) {
    if (is_worker_script(target)) h.set("Content-Security-Policy", worker_content_security_policy);
}

void apply_mail_frame_policy(beast_http::response_header<>& h, std::string_view target) {
    // The frame is sandboxed without allow-same-origin: its origin is opaque, so its module
    // script is a cross-origin CORS request (Origin: null). The bundle is public and no
    // credentials go with it, so any origin may read it.
    constexpr std::string_view frame_script_prefix = "/assets/mail-frame-";
    if (target.starts_with(frame_script_prefix) && target.ends_with(".js") &&
        target.substr(frame_script_prefix.size()).find_first_of("/?%") == std::string_view::npos &&
        target.find("..") == std::string_view::npos) {
        h.set(beast_http::field::access_control_allow_origin, "*");
        return;
    }
    std::string_view policy;
    if (target == "/mail-frame.html") {
        policy = mail_frame_content_security_policy;
    } else if (target == "/mail-frame-remote.html") {
        policy = mail_frame_remote_content_security_policy;
        // Remote images the reader chose to load come from mail senders' servers, which send
        // no Cross-Origin-Resource-Policy: credentialless fetches them without cookies instead
        // of blocking them (still an isolated page inside the require-corp app).
        h.set("Cross-Origin-Embedder-Policy", "credentialless");
    } else {
        return;
    }
    h.set("Content-Security-Policy", policy);
    h.set(beast_http::field::x_frame_options, "SAMEORIGIN");
}

}  // namespace secms::http

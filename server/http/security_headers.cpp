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

}  // namespace secms::http

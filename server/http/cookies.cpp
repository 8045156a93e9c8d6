#include "server/http/cookies.hpp"

namespace secms::http {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

std::optional<std::string_view> find_session_cookie(std::string_view header) {
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view pair = trim(header.substr(0, semi));
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == session_cookie_name) {
            return pair.substr(eq + 1);
        }
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return std::nullopt;
}

std::string session_cookie(std::string_view token) {
    std::string out(session_cookie_name);
    out += '=';
    out += token;
    out += "; Path=/; Secure; HttpOnly; SameSite=Strict";
    return out;
}

std::string expired_session_cookie() {
    std::string out(session_cookie_name);
    out += "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
    return out;
}

}  // namespace secms::http

#include "server/http/request_path.hpp"

namespace secms::http {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::size_t max_path_length = 1024;

}  // namespace

std::optional<std::string> normalise_request_path(std::string_view target) {
    if (target.empty() || target.front() != '/' || target.size() > max_path_length) {
        return std::nullopt;
    }
    if (auto q = target.find_first_of("?#"); q != std::string_view::npos) {
        target = target.substr(0, q);
    }
    std::string decoded;
    decoded.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;  // truncated escape
            int hi = hex_value(target[i + 1]);
            int lo = hex_value(target[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            // An encoded '/' would let one segment hide another.
            if (c == '/') return std::nullopt;
            i += 2;
        }
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\') return std::nullopt;
        decoded.push_back(c);
    }
    // Segment check: no empty-but-dot segments, no traversal.
    std::size_t start = 1;
    while (start <= decoded.size()) {
        std::size_t end = decoded.find('/', start);
        if (end == std::string::npos) end = decoded.size();
        std::string_view segment(decoded.data() + start, end - start);
        if (segment == "." || segment == "..") return std::nullopt;
        if (end < decoded.size() && segment.empty()) return std::nullopt;  // "//"
        start = end + 1;
    }
    return decoded;
}

}  // namespace secms::http

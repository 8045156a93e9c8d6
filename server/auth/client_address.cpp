#include "server/auth/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

namespace secms::auth {

std::string address_key(std::string_view address) {
    // A zone index ("fe80::1%eth0") names a link, not a host: drop it before parsing.
    std::string text(address.substr(0, std::min<std::size_t>(address.size(), 64)));
    if (auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);

    std::array<std::uint8_t, 4> v4{};
    if (::inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
        char out[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, v4.data(), out, sizeof out);
        return out;
    }
    std::array<std::uint8_t, 16> v6{};
    if (::inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
    static constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0,    0,
                                                                0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped_prefix.begin(), mapped_prefix.end(), v6.begin())) {
        char out[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, v6.data() + 12, out, sizeof out);
        return out;
    }
    // Keep the first 64 bits, zero the interface identifier, print in the canonical form.
    std::fill(v6.begin() + 8, v6.end(), std::uint8_t{0});
    char out[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, v6.data(), out, sizeof out);
    return std::string(out) + "/64";
}

}  // namespace secms::auth

// Syntax checks of the host and port parts of the URLs and addresses in the configuration (ICE
// server URLs, the SIP WebSocket URL, the phones' proxy addresses). Syntax only: nothing is
// resolved.
#pragma once

#include <string_view>

namespace secms::core {

// A decimal port 1..65535, without sign or leading spaces.
bool valid_port(std::string_view text);

// A DNS name or an IPv4 address (RFC 3986 reg-name restricted to letters, digits, '-' and '.'):
// at most 253 characters, no leading '.' or '-', no empty label ("..").
bool valid_host_name(std::string_view host);

// An IPv6 literal between brackets (RFC 3986 §3.2.2): hex digits, ':' and '.' only.
bool valid_ip_literal(std::string_view host);

// Either of the two above.
bool valid_host(std::string_view host);

}  // namespace secms::core

// The key under which per-address limits count a client. One function for every per-IP limit
// (login, registration, connections), so they cannot disagree about who is "one client".
#pragma once

#include <string>
#include <string_view>

namespace secms::auth {

// An IPv4 address is its own key. An IPv6 address counts by its /64 prefix: RFC 4291 §2.5.4 gives
// every interface a 64-bit identifier, and one subscriber routinely holds a whole /64 (RFC 6177),
// so keying by the full /128 hands an attacker 2^64 fresh buckets. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the IPv4 address it carries. Text that is not an IP
// address (it never comes from a socket) is kept as it is, cut to a bounded length.
std::string address_key(std::string_view address);

}  // namespace secms::auth

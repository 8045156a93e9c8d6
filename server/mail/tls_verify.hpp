// Certificate checks for libetpan TLS streams. libetpan (Debian: built with GnuTLS) does not
// verify the peer, so after the handshake and before any credential is sent, the peer's chain
// is verified with OpenSSL against the system trust store and the expected host name.
#pragma once

#include <libetpan/libetpan.h>

#include <string>

namespace secms::mail::detail {

// The libetpan TLS callback: sets SNI to the host name passed as data (a std::string*).
void set_server_name(mailstream_ssl_context* context, void* host_name);

// True when the stream's peer chain verifies for host (a DNS name or an IP literal).
bool peer_verified(mailstream* stream, const std::string& host);

}  // namespace secms::mail::detail

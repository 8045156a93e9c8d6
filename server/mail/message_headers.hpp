// Pure parsing of an outgoing message's top header block (no I/O), and address checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/mail_error.hpp"

namespace secms::mail {

struct outgoing_headers {
    std::vector<mail_address> from;
    std::optional<mail_address> sender;
    std::vector<mail_address> to, cc, bcc;
    bool has_bcc = false;
    std::string message_id;
};

// Parses only the top header block (limit: 256 KiB of header, 1000 header fields; more →
// bad_request) with mailimf. No From, NUL bytes or bare CR in the header → bad_request.
core::result<outgoing_headers, mail_error> read_outgoing_headers(std::string_view raw);
// addr-spec check (RFC 5321 path: local@domain, ≤ 254 octets, no CR/LF/space/<>/quotes …).
bool valid_address(std::string_view address);
// "Alice@LocalHost" → "Alice@localhost"
std::string lower_domain(std::string_view address);
// RFC 2047 encoded words → UTF-8 (unknown charsets and broken words are kept as they are).
std::string decode_words(std::string_view header_value);

}  // namespace secms::mail

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
    // Resent-From and Resent-Sender (RFC 5322 §3.6.6): checked like From and Sender.
    std::vector<mail_address> resent_from;
    std::optional<mail_address> resent_sender;
    // A From, Sender, Resent-From or Resent-Sender field holds more than one '@' (in a display
    // name, quoted or not, a comment, a route) or a display name that decodes to one: a reader
    // could show that text as the sender. The send route refuses it (from_not_allowed).
    bool sender_text_holds_address = false;
    std::vector<mail_address> to, cc, bcc;
    bool has_bcc = false;
    std::string message_id;
};

// Parses only the top header block (limit: 256 KiB of header, 1000 header fields; more →
// bad_request) with mailimf. No From or more than one, NUL bytes or bare CR in the header, a
// field name that is not RFC 5322 ftext (printable ASCII but ':'; so no space, tab or 8-bit byte
// before the colon), a line without a colon, or a block mailimf does not read to its end →
// bad_request: readers that parse headers differently must not see another From.
core::result<outgoing_headers, mail_error> read_outgoing_headers(std::string_view raw);
// addr-spec check (RFC 5321 path: local@domain, ≤ 254 octets, no CR/LF/space/<>/quotes …).
bool valid_address(std::string_view address);
// "Alice@LocalHost" → "Alice@localhost"
std::string lower_domain(std::string_view address);
// RFC 2047 encoded words → UTF-8 (unknown charsets and broken words are kept as they are).
std::string decode_words(std::string_view header_value);

}  // namespace secms::mail

// The outgoing message's top header block, parsed with libetpan's mailimf.
#include "server/mail/message_headers.hpp"

#include <libetpan/libetpan.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace secms::mail {
namespace {

constexpr std::size_t max_header_bytes = 256 * 1024;
constexpr std::size_t max_header_fields = 1000;

struct fields_deleter {
    void operator()(mailimf_fields* f) const noexcept { mailimf_fields_free(f); }
};
struct c_string_deleter {
    void operator()(char* p) const noexcept { std::free(p); }
};

mail_address to_address(const mailimf_mailbox* mb) {
    mail_address out;
    if (mb == nullptr) return out;
    if (mb->mb_display_name != nullptr) out.name = decode_words(mb->mb_display_name);
    if (mb->mb_addr_spec != nullptr) out.address = mb->mb_addr_spec;
    return out;
}

void add_mailbox_list(std::vector<mail_address>& out, const mailimf_mailbox_list* list) {
    if (list == nullptr || list->mb_list == nullptr) return;
    for (clistiter* it = clist_begin(list->mb_list); it != nullptr; it = clist_next(it)) {
        out.push_back(to_address(static_cast<const mailimf_mailbox*>(clist_content(it))));
    }
}

void add_address_list(std::vector<mail_address>& out, const mailimf_address_list* list) {
    if (list == nullptr || list->ad_list == nullptr) return;
    for (clistiter* it = clist_begin(list->ad_list); it != nullptr; it = clist_next(it)) {
        const auto* address = static_cast<const mailimf_address*>(clist_content(it));
        if (address->ad_type == MAILIMF_ADDRESS_MAILBOX) {
            out.push_back(to_address(address->ad_data.ad_mailbox));
        } else if (address->ad_type == MAILIMF_ADDRESS_GROUP) {
            add_mailbox_list(out, address->ad_data.ad_group->grp_mb_list);
        }
    }
}

bool starts_with_field(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
    }
    return true;
}

// RFC 5322 §3.6.8 ftext: %d33-57 / %d59-126.
bool is_ftext(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 33 && u <= 126 && u != ':';
}

// The fields whose text names the sender.
bool names_sender(std::string_view name) {
    static constexpr std::string_view names[] = {"from", "sender", "resent-from", "resent-sender"};
    for (auto n : names) {
        if (name.size() != n.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < n.size() && same; ++i) {
            same = std::tolower(static_cast<unsigned char>(name[i])) == n[i];
        }
        if (same) return true;
    }
    return false;
}

// Whether UTF-8 text holds '@' or a character NFKC normalises to one: U+FE6B SMALL COMMERCIAL
// AT and U+FF20 FULLWIDTH COMMERCIAL AT are the only two (Unicode 15 compatibility mappings), so
// the text is checked for their bytes rather than normalised whole. A reader may show either as
// an address.
bool holds_at_sign(std::string_view text) {
    return text.find('@') != std::string_view::npos ||
           text.find("\xEF\xB9\xAB") != std::string_view::npos ||  // U+FE6B
           text.find("\xEF\xBC\xA0") != std::string_view::npos;    // U+FF20
}

bool name_holds_address(const mail_address& a) {
    return holds_at_sign(a.name);
}

// Whether a comment (RFC 5322 §3.2.2, nested, outside quoted strings) of a field value holds an
// '@' or its NFKC look-alikes, its encoded words decoded: a reader may show a comment as the
// sender's name ("alice@x (=?utf-8?Q?carol=40x?=)" reads as "carol@x").
bool comment_holds_address(std::string_view value) {
    bool quoted = false;
    int depth = 0;
    std::string comment;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\\' && i + 1 < value.size()) {
            if (depth > 0) comment += value[i + 1];
            ++i;
            continue;
        }
        if (depth == 0) {
            if (c == '"') quoted = !quoted;
            if (c == '(' && !quoted) depth = 1;
            continue;
        }
        if (c == '(') ++depth;
        if (c == ')' && --depth == 0) {
            if (holds_at_sign(comment) || holds_at_sign(decode_words(comment))) return true;
            comment.clear();
            continue;
        }
        comment += c;
    }
    // An unclosed comment is checked as it stands.
    return depth > 0 && (holds_at_sign(comment) || holds_at_sign(decode_words(comment)));
}

bool is_atext(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}

}  // namespace

core::result<outgoing_headers, mail_error> read_outgoing_headers(std::string_view raw) {
    // The header block ends at the first empty line (CRLF CRLF, or LF LF from lax writers).
    std::size_t end = std::string_view::npos;
    for (std::size_t i = 0; i < raw.size() && i <= max_header_bytes; ++i) {
        if (raw[i] != '\n') continue;
        if (i + 1 < raw.size() && raw[i + 1] == '\n') {
            end = i + 1;
            break;
        }
        if (i + 2 < raw.size() && raw[i + 1] == '\r' && raw[i + 2] == '\n') {
            end = i + 1;
            break;
        }
    }
    if (end == std::string_view::npos) {
        if (raw.size() > max_header_bytes) return core::fail(mail_error::bad_request);
        end = raw.size();  // a message without body
    }
    if (end > max_header_bytes) return core::fail(mail_error::bad_request);
    const std::string_view block = raw.substr(0, end);

    // Normalise to CRLF, refusing NUL and bare CR; count fields and From lines on the way.
    std::string header;
    header.reserve(block.size() + block.size() / 32);
    std::size_t field_count = 0;
    std::size_t from_lines = 0;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < block.size(); ++i) {
        const char c = block[i];
        if (c == '\0') return core::fail(mail_error::bad_request);
        if (c == '\r') {
            if (i + 1 >= block.size() || block[i + 1] != '\n') {
                return core::fail(mail_error::bad_request);
            }
            continue;
        }
        if (i == line_start) {
            if (c != ' ' && c != '\t') {
                ++field_count;
                if (starts_with_field(block.substr(i), "from")) ++from_lines;
            }
        }
        if (c == '\n') {
            header += "\r\n";
            line_start = i + 1;
        } else {
            header += c;
        }
    }
    if (field_count > max_header_fields) return core::fail(mail_error::bad_request);
    // One From field only: a second one could show another sender than the one checked.
    if (from_lines != 1) return core::fail(mail_error::bad_request);
    if (header.size() < 2 || header.substr(header.size() - 2) != "\r\n") header += "\r\n";

    outgoing_headers out;
    std::size_t sender_fields = 0;
    // Every field: a name of ftext, a colon, and the value with its folded lines. The text of
    // the fields that name the sender may hold one '@' (the address) only.
    for (std::size_t pos = 0; pos < header.size();) {
        const std::size_t colon = header.find(':', pos);
        const std::size_t eol = header.find("\r\n", pos);
        if (colon == std::string::npos || colon > eol || colon == pos) {
            return core::fail(mail_error::bad_request);
        }
        for (std::size_t i = pos; i < colon; ++i) {
            if (!is_ftext(header[i])) return core::fail(mail_error::bad_request);
        }
        std::size_t field_end = eol;
        while (field_end + 2 < header.size() &&
               (header[field_end + 2] == ' ' || header[field_end + 2] == '\t')) {
            field_end = header.find("\r\n", field_end + 2);
        }
        const std::string_view name(header.data() + pos, colon - pos);
        const std::string_view value(header.data() + colon + 1, field_end - colon - 1);
        if (names_sender(name)) {
            ++sender_fields;
            if (std::count(value.begin(), value.end(), '@') > 1 || comment_holds_address(value) ||
                value.find("\xEF\xB9\xAB") != std::string_view::npos ||
                value.find("\xEF\xBC\xA0") != std::string_view::npos) {
                out.sender_text_holds_address = true;
            }
        }
        pos = field_end + 2;
    }

    std::size_t index = 0;
    mailimf_fields* parsed_raw = nullptr;
    if (mailimf_fields_parse(header.data(), header.size(), &index, &parsed_raw) !=
            MAILIMF_NO_ERROR ||
        parsed_raw == nullptr) {
        return core::fail(mail_error::bad_request);
    }
    const std::unique_ptr<mailimf_fields, fields_deleter> parsed(parsed_raw);
    // mailimf stops at what it cannot read; whatever follows is not checked, so refused.
    if (index != header.size()) return core::fail(mail_error::bad_request);

    bool saw_from = false;
    std::size_t sender_fields_read = 0;
    for (clistiter* it = clist_begin(parsed->fld_list); it != nullptr; it = clist_next(it)) {
        const auto* field = static_cast<const mailimf_field*>(clist_content(it));
        switch (field->fld_type) {
            case MAILIMF_FIELD_FROM:
            case MAILIMF_FIELD_SENDER:
            case MAILIMF_FIELD_RESENT_FROM:
            case MAILIMF_FIELD_RESENT_SENDER:
                ++sender_fields_read;
                break;
            default:
                break;
        }
        switch (field->fld_type) {
            case MAILIMF_FIELD_FROM:
                saw_from = true;
                add_mailbox_list(out.from, field->fld_data.fld_from->frm_mb_list);
                break;
            case MAILIMF_FIELD_SENDER:
                if (out.sender) return core::fail(mail_error::bad_request);
                out.sender = to_address(field->fld_data.fld_sender->snd_mb);
                break;
            case MAILIMF_FIELD_RESENT_FROM:
                add_mailbox_list(out.resent_from, field->fld_data.fld_resent_from->frm_mb_list);
                break;
            case MAILIMF_FIELD_RESENT_SENDER:
                if (out.resent_sender) return core::fail(mail_error::bad_request);
                out.resent_sender = to_address(field->fld_data.fld_resent_sender->snd_mb);
                break;
            case MAILIMF_FIELD_TO:
                add_address_list(out.to, field->fld_data.fld_to->to_addr_list);
                break;
            case MAILIMF_FIELD_CC:
                add_address_list(out.cc, field->fld_data.fld_cc->cc_addr_list);
                break;
            case MAILIMF_FIELD_BCC:
                out.has_bcc = true;
                add_address_list(out.bcc, field->fld_data.fld_bcc->bcc_addr_list);
                break;
            case MAILIMF_FIELD_MESSAGE_ID:
                if (field->fld_data.fld_message_id->mid_value != nullptr) {
                    out.message_id = field->fld_data.fld_message_id->mid_value;
                }
                break;
            default:
                break;
        }
    }
    // A From line that mailimf could not read as a mailbox list is kept as an optional field;
    // so is a Sender or Resent-* field outside a resent block: unchecked, so refused.
    if (!saw_from || out.from.empty() || sender_fields_read != sender_fields) {
        return core::fail(mail_error::bad_request);
    }
    for (const auto& a : out.from) {
        if (a.address.empty()) return core::fail(mail_error::bad_request);
        if (name_holds_address(a)) out.sender_text_holds_address = true;
    }
    for (const auto& a : out.resent_from) {
        if (name_holds_address(a)) out.sender_text_holds_address = true;
    }
    for (const auto* a : {&out.sender, &out.resent_sender}) {
        if (*a && name_holds_address(**a)) out.sender_text_holds_address = true;
    }
    return out;
}

bool valid_address(std::string_view address) {
    if (address.empty() || address.size() > 254) return false;
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at > 64) return false;
    const std::string_view local = address.substr(0, at);
    const std::string_view domain = address.substr(at + 1);
    // Local part: dot-atom only (no quoted strings): atext runs separated by single dots.
    if (local.front() == '.' || local.back() == '.') return false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        if (local[i] == '.') {
            if (local[i + 1] == '.') return false;
        } else if (!is_atext(local[i])) {
            return false;
        }
    }
    // Domain: LDH labels of 1..63 octets, no leading or trailing hyphen (no address literals).
    if (domain.empty() || domain.size() > 253) return false;
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= domain.size(); ++i) {
        if (i == domain.size() || domain[i] == '.') {
            const std::size_t length = i - label_start;
            if (length == 0 || length > 63) return false;
            if (domain[label_start] == '-' || domain[i - 1] == '-') return false;
            label_start = i + 1;
            continue;
        }
        const char c = domain[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    return true;
}

std::string lower_domain(std::string_view address) {
    std::string out(address);
    const auto at = out.rfind('@');
    if (at == std::string::npos) return out;
    std::transform(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(),
                   out.begin() + static_cast<std::ptrdiff_t>(at),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string decode_words(std::string_view header_value) {
    if (header_value.find("=?") == std::string_view::npos) return std::string(header_value);
    const std::string input(header_value);
    std::size_t index = 0;
    char* decoded_raw = nullptr;
    if (mailmime_encoded_phrase_parse("utf-8", input.c_str(), input.size(), &index, "utf-8",
                                      &decoded_raw) != MAILIMF_NO_ERROR ||
        decoded_raw == nullptr) {
        return input;
    }
    const std::unique_ptr<char, c_string_deleter> decoded(decoded_raw);
    return std::string(decoded.get());
}

}  // namespace secms::mail

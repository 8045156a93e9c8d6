// IMAP modified UTF-7 (RFC 3501 §5.1.3) and the folder name rules of the API.
#include <cstdint>
#include <string>

#include "server/mail/imap_session.hpp"

namespace secms::mail {
namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64_value(char c) {
    const auto pos = base64_alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Decodes one UTF-8 scalar value at text[i]; strict (no overlong forms, no surrogates).
bool next_code_point(std::string_view text, std::size_t& i, char32_t& out) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    char32_t value = 0;
    if (lead < 0x80) {
        out = lead;
        ++i;
        return true;
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2;
        value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        value = lead & 0x07;
    } else {
        return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
        const unsigned char c = byte(i + k);
        if ((c & 0xC0) != 0x80) return false;
        value = (value << 6) | (c & 0x3F);
    }
    static constexpr char32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < minimum[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return false;
    }
    i += length;
    out = value;
    return true;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

void flush_utf16_run(std::string& out, const std::u16string& run) {
    if (run.empty()) return;
    out += '&';
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (char16_t unit : run) {
        for (int shift = 8; shift >= 0; shift -= 8) {
            bits = (bits << 8) | ((unit >> shift) & 0xFF);
            bit_count += 8;
            while (bit_count >= 6) {
                bit_count -= 6;
                out += base64_alphabet[(bits >> bit_count) & 0x3F];
            }
        }
    }
    if (bit_count > 0) out += base64_alphabet[(bits << (6 - bit_count)) & 0x3F];
    out += '-';
}

}  // namespace

core::result<std::string, mail_error> utf8_to_mutf7(std::string_view utf8) {
    std::string out;
    std::u16string run;
    std::size_t i = 0;
    while (i < utf8.size()) {
        char32_t cp = 0;
        if (!next_code_point(utf8, i, cp)) return core::fail(mail_error::bad_request);
        if (cp >= 0x20 && cp <= 0x7E) {
            flush_utf16_run(out, run);
            run.clear();
            out += static_cast<char>(cp);
            if (cp == '&') out += '-';
        } else if (cp < 0x10000) {
            run += static_cast<char16_t>(cp);
        } else {
            const char32_t v = cp - 0x10000;
            run += static_cast<char16_t>(0xD800 + (v >> 10));
            run += static_cast<char16_t>(0xDC00 + (v & 0x3FF));
        }
    }
    flush_utf16_run(out, run);
    return out;
}

core::result<std::string, mail_error> mutf7_to_utf8(std::string_view mutf7) {
    std::string out;
    std::size_t i = 0;
    while (i < mutf7.size()) {
        const char c = mutf7[i];
        const auto uc = static_cast<unsigned char>(c);
        if (uc < 0x20 || uc > 0x7E) return core::fail(mail_error::bad_request);
        if (c != '&') {
            out += c;
            ++i;
            continue;
        }
        const auto end = mutf7.find('-', i + 1);
        if (end == std::string_view::npos) return core::fail(mail_error::bad_request);
        if (end == i + 1) {  // "&-" is '&'
            out += '&';
            i = end + 1;
            continue;
        }
        std::u16string units;
        std::uint32_t bits = 0;
        int bit_count = 0;
        for (std::size_t k = i + 1; k < end; ++k) {
            const int v = base64_value(mutf7[k]);
            if (v < 0) return core::fail(mail_error::bad_request);
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
            bit_count += 6;
            if (bit_count >= 16) {
                bit_count -= 16;
                units += static_cast<char16_t>((bits >> bit_count) & 0xFFFF);
            }
        }
        // Leftover bits must be zero padding shorter than one base64 digit group.
        if (bit_count >= 6 || (bits & ((1u << bit_count) - 1)) != 0) {
            return core::fail(mail_error::bad_request);
        }
        for (std::size_t k = 0; k < units.size(); ++k) {
            char32_t cp = units[k];
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (k + 1 >= units.size() || units[k + 1] < 0xDC00 || units[k + 1] > 0xDFFF) {
                    return core::fail(mail_error::bad_request);
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (units[k + 1] - 0xDC00);
                ++k;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return core::fail(mail_error::bad_request);
            } else if (cp >= 0x20 && cp <= 0x7E) {
                return core::fail(mail_error::bad_request);  // must have been sent directly
            }
            append_utf8(out, cp);
        }
        i = end + 1;
    }
    return out;
}

bool valid_folder_path(std::string_view path, char delimiter) {
    if (path.empty() || path.size() > 255) return false;
    std::size_t i = 0;
    std::size_t segment_length = 0;
    while (i < path.size()) {
        char32_t cp = 0;
        if (!next_code_point(path, i, cp)) return false;
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == '*' || cp == '%') return false;
        if (delimiter != 0 && cp == static_cast<unsigned char>(delimiter)) {
            if (segment_length == 0) return false;
            segment_length = 0;
        } else {
            ++segment_length;
        }
    }
    return segment_length > 0;
}

}  // namespace secms::mail

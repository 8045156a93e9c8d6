// The certificate pre-scan (packet_scan.hpp). Every read is bounds-checked against the packet it
// belongs to; nothing here trusts a length it has not checked against what remains.
#include "server/pgp/packet_scan.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>

namespace secms::pgp {

namespace {

using bytes = std::span<const std::uint8_t>;

// --- armor (RFC 9580 §6.2) -------------------------------------------------------------------

constexpr std::string_view begin_marker = "-----BEGIN PGP ";
constexpr std::string_view end_marker = "-----END PGP ";

// Next line of text (without its line ending), advancing pos past it.
std::string_view next_line(std::string_view text, std::size_t& pos) {
    const std::size_t start = pos;
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
        end = text.size();
        pos = text.size();
    } else {
        pos = end + 1;
    }
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    return line;
}

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Decodes base64 (RFC 4648 §4) with optional trailing padding; appends to out.
bool decode_base64(std::string_view text, std::vector<std::uint8_t>& out) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return false;
    }
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = base64_value(c);
        if (v < 0) {
            return false;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
        }
    }
    return true;
}

bool is_header_line(std::string_view line) {
    const auto colon = line.find(": ");
    return colon != std::string_view::npos && colon > 0 &&
           std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                       [](char c) { return base64_value(c) >= 0 || c == '-'; });
}

// --- packet framing (RFC 9580 §4.2) ----------------------------------------------------------

enum tag : std::uint8_t {
    pkesk = 1,
    signature = 2,
    skesk = 3,
    one_pass_signature = 4,
    secret_key = 5,
    public_key = 6,
    secret_subkey = 7,
    compressed = 8,
    symmetric = 9,
    marker = 10,
    literal = 11,
    trust = 12,
    user_id = 13,
    public_subkey = 14,
    user_attribute = 17,
    seipd = 18,
    aead = 20,
    padding = 21,
};

struct packet {
    std::uint8_t tag = 0;
    bytes body;
};

// One packet header at data[pos]; nullopt on any framing error. Partial lengths (new format,
// first octet 224..254) are allowed only in data packets (RFC 9580 §4.2.1.4), never in key
// material, and old-format indeterminate lengths (type 3) cannot be bounded: both are refused.
std::optional<packet> read_packet(bytes data, std::size_t& pos) {
    const std::size_t left = data.size() - pos;
    if (left < 2) {
        return std::nullopt;
    }
    const std::uint8_t ctb = data[pos];
    if ((ctb & 0x80) == 0) {
        return std::nullopt;
    }
    std::size_t header = 0;
    std::uint64_t length = 0;
    std::uint8_t t = 0;
    if ((ctb & 0x40) != 0) {  // new format, RFC 9580 §4.2.1
        t = ctb & 0x3F;
        const std::uint8_t first = data[pos + 1];
        if (first < 192) {
            header = 2;
            length = first;
        } else if (first < 224) {
            if (left < 3) {
                return std::nullopt;
            }
            header = 3;
            length = ((static_cast<std::uint64_t>(first) - 192) << 8) + data[pos + 2] + 192;
        } else if (first == 255) {
            if (left < 6) {
                return std::nullopt;
            }
            header = 6;
            for (std::size_t i = 0; i < 4; ++i) {
                length = (length << 8) | data[pos + 2 + i];
            }
        } else {
            return std::nullopt;  // partial body length
        }
    } else {  // legacy format, RFC 9580 §4.2.2
        t = static_cast<std::uint8_t>((ctb >> 2) & 0x0F);
        const std::size_t size_octets = std::array<std::size_t, 4>{1, 2, 4, 0}[ctb & 0x03];
        if (size_octets == 0 || left < 1 + size_octets) {
            return std::nullopt;
        }
        header = 1 + size_octets;
        for (std::size_t i = 0; i < size_octets; ++i) {
            length = (length << 8) | data[pos + 1 + i];
        }
    }
    if (t == 0 || length > left - header) {
        return std::nullopt;  // tag 0 is reserved; the body must be all there
    }
    packet p{t, data.subspan(pos + header, static_cast<std::size_t>(length))};
    pos += header + static_cast<std::size_t>(length);
    return p;
}

// A bounds-checked reader over one packet body.
class reader {
  public:
    explicit reader(bytes data) : data_(data) {}
    std::size_t left() const noexcept { return data_.size() - pos_; }
    std::optional<std::uint8_t> u8() {
        if (left() < 1) return std::nullopt;
        return data_[pos_++];
    }
    std::optional<std::uint32_t> be(std::size_t n) {
        if (left() < n) return std::nullopt;
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = (v << 8) | data_[pos_++];
        }
        return v;
    }
    std::optional<bytes> take(std::size_t n) {
        if (left() < n) return std::nullopt;
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    // An MPI (RFC 9580 §3.2): its magnitude, leading zero octets stripped.
    std::optional<bytes> mpi() {
        auto bits = be(2);
        if (!bits) return std::nullopt;
        auto value = take((*bits + 7) / 8);
        if (!value) return std::nullopt;
        auto v = *value;
        while (!v.empty() && v.front() == 0) {
            v = v.subspan(1);
        }
        return v;
    }

  private:
    bytes data_;
    std::size_t pos_ = 0;
};

// Bit length of a big-endian magnitude without leading zero octets.
std::size_t bit_length(bytes v) {
    if (v.empty()) return 0;
    std::size_t bits = (v.size() - 1) * 8;
    for (std::uint8_t top = v.front(); top != 0; top >>= 1) {
        ++bits;
    }
    return bits;
}

// Public-key algorithm IDs, RFC 9580 §9.1.
constexpr bool is_rsa(std::uint8_t a) {
    return a == 1 || a == 2 || a == 3;
}
constexpr std::uint8_t elgamal_encrypt = 16;
constexpr std::uint8_t dsa = 17;
constexpr std::uint8_t elgamal_legacy = 20;

// The algorithms RFC 9580 §9.1 defines for keys: RSA (1, 2, 3), ElGamal (16, 20), DSA (17), ECDH
// (18), ECDSA (19), EdDSA legacy (22), X25519 (25), X448 (26), Ed25519 (27), Ed448 (28). Any
// other ID is a key the scan cannot size, so it cannot vouch for its cost: refused.
constexpr bool is_known_algorithm(std::uint8_t a) {
    return is_rsa(a) || (a >= 16 && a <= 20) || a == 22 || (a >= 25 && a <= 28);
}

// The fields of a public key packet (RFC 9580 §5.5.2) that set what verifying with it costs.
// Elliptic-curve keys are left to librnp: it knows a fixed set of curves, each of bounded cost.
// An unknown algorithm is refused: the scan cannot size such a key, and a key packet passed
// unread could carry anything (a polyglot, docs/certificates.md "Before librnp").
core::status<certificate_error> check_key_material(bytes body, bool primary,
                                                   const pgp_limits& limits) {
    reader r(body);
    const auto version = r.u8();
    if (!version) return core::fail(certificate_error::not_openpgp);
    std::optional<std::uint8_t> algorithm;
    if (*version == 2 || *version == 3) {  // RFC 4880 §5.5.2: time, validity days, algorithm
        if (!r.be(4) || !r.be(2)) return core::fail(certificate_error::not_openpgp);
        algorithm = r.u8();
    } else if (*version == 4) {
        if (!r.be(4)) return core::fail(certificate_error::not_openpgp);
        algorithm = r.u8();
    } else if (*version == 5 || *version == 6) {  // time, algorithm, key material length
        if (!r.be(4)) return core::fail(certificate_error::not_openpgp);
        algorithm = r.u8();
        if (!r.be(4)) return core::fail(certificate_error::not_openpgp);
    } else {
        return core::fail(certificate_error::not_openpgp);  // no such key version
    }
    if (!algorithm) return core::fail(certificate_error::not_openpgp);
    if (!is_known_algorithm(*algorithm)) return core::fail(certificate_error::unsupported);

    if (is_rsa(*algorithm)) {
        const auto n = r.mpi();
        const auto e = r.mpi();
        if (!n || !e) return core::fail(certificate_error::not_openpgp);
        if (bit_length(*n) > limits.max_rsa_bits) return core::fail(certificate_error::unsupported);
        // A verification costs one exponentiation by e: with e < 2^32 it is cheap whatever the
        // modulus; an exponent as long as the modulus makes it as dear as a signing operation.
        // Even or tiny exponents are not RSA keys at all.
        const std::size_t e_bits = bit_length(*e);
        if (e_bits > 32 || e_bits < 2 || (e->back() & 1) == 0) {
            return core::fail(certificate_error::unsupported);
        }
        return core::ok;
    }
    if (*algorithm == dsa || *algorithm == elgamal_encrypt || *algorithm == elgamal_legacy) {
        if (primary) {
            return core::fail(certificate_error::weak_algorithm);  // refused anyway (check 11)
        }
        const auto p = r.mpi();
        if (!p) return core::fail(certificate_error::not_openpgp);
        if (bit_length(*p) > limits.max_rsa_bits) return core::fail(certificate_error::unsupported);
        if (*algorithm == dsa) {
            const auto q = r.mpi();
            if (!q) return core::fail(certificate_error::not_openpgp);
            if (bit_length(*q) > 256) return core::fail(certificate_error::unsupported);
        }
    }
    return core::ok;
}

using fingerprint_v4 = std::array<std::uint8_t, 20>;

// The primary key's v4 fingerprint: SHA-1 over 0x99 || two-octet length || body (RFC 9580
// §5.5.4.2); its low 8 octets are the key ID. nullopt for other versions.
std::optional<fingerprint_v4> v4_fingerprint(bytes body) {
    if (body.empty() || body[0] != 4 || body.size() > 0xFFFF) return std::nullopt;
    const std::array<std::uint8_t, 3> prefix{0x99, static_cast<std::uint8_t>(body.size() >> 8),
                                             static_cast<std::uint8_t>(body.size() & 0xFF)};
    fingerprint_v4 digest{};
    unsigned int length = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool done = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
                      EVP_DigestUpdate(ctx, prefix.data(), prefix.size()) == 1 &&
                      EVP_DigestUpdate(ctx, body.data(), body.size()) == 1 &&
                      EVP_DigestFinal_ex(ctx, digest.data(), &length) == 1;
    EVP_MD_CTX_free(ctx);
    if (!done || length != digest.size()) return std::nullopt;
    return digest;
}

std::optional<std::array<std::uint8_t, 8>> key_id_of(const std::optional<fingerprint_v4>& fpr) {
    if (!fpr) return std::nullopt;
    std::array<std::uint8_t, 8> id{};
    std::copy(fpr->end() - 8, fpr->end(), id.begin());
    return id;
}

std::string upper_hex(bytes data) {
    static constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    out.reserve(data.size() * 2);
    for (const std::uint8_t b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0F]);
    }
    return out;
}

// Whether a transferable public key may hold a packet of this tag (RFC 9580 §10.1, plus marker
// §5.8, trust §5.10 and padding §5.14, which readers ignore). Secret keys are refused before.
constexpr bool is_certificate_tag(std::uint8_t t) {
    return t == public_key || t == user_id || t == user_attribute || t == signature ||
           t == public_subkey || t == marker || t == trust || t == padding;
}

constexpr bool is_message_tag(std::uint8_t t) {
    return t == pkesk || t == skesk || t == one_pass_signature || t == compressed ||
           t == symmetric || t == literal || t == seipd || t == aead;
}

// RFC 9580 §5.8: a marker packet's body is the three octets "PGP".
bool is_marker_body(bytes body) {
    static constexpr std::array<std::uint8_t, 3> pgp{'P', 'G', 'P'};
    return std::equal(body.begin(), body.end(), pgp.begin(), pgp.end());
}

enum class issuer { self, other };

// Whether a signature names the primary key as its issuer (issuer key ID subpacket 16, issuer
// fingerprint subpacket 33 — RFC 9580 §5.2.3.12, §5.2.3.35 — or a v3 signature's key ID field).
// Anything unreadable or unnamed counts as a self-signature: librnp would try to verify it with
// the primary key, and the cap on self-signatures must hold for it too.
issuer issuer_of(bytes body, const std::optional<std::array<std::uint8_t, 8>>& self) {
    if (!self) return issuer::self;
    const auto is_self = [&](bytes id) { return std::equal(id.begin(), id.end(), self->begin()); };
    reader r(body);
    const auto version = r.u8();
    if (version == 3) {  // RFC 4880 §5.2.2: length 5, type, time, key ID
        if (!r.take(6)) return issuer::self;
        const auto id = r.take(8);
        return !id || is_self(*id) ? issuer::self : issuer::other;
    }
    if (version != 4 || !r.take(3)) return issuer::self;
    bool named = false;
    for (int area = 0; area < 2; ++area) {  // hashed, then unhashed subpackets
        const auto size = r.be(2);
        if (!size) return issuer::self;
        const auto subpackets = r.take(*size);
        if (!subpackets) return issuer::self;
        reader s(*subpackets);
        while (s.left() > 0) {
            const auto first = s.u8();
            std::optional<std::uint32_t> len;
            if (*first < 192) {
                len = *first;
            } else if (*first < 255) {
                const auto second = s.u8();
                if (second) len = ((static_cast<std::uint32_t>(*first) - 192) << 8) + *second + 192;
            } else {
                len = s.be(4);
            }
            if (!len || *len == 0) return issuer::self;
            const auto content = s.take(*len);
            if (!content) return issuer::self;
            const std::uint8_t type = (*content)[0] & 0x7F;  // bit 7: critical
            const auto data = content->subspan(1);
            if (type == 16 && data.size() == 8) {
                if (is_self(data)) return issuer::self;
                named = true;
            } else if (type == 33 && data.size() == 21 && data[0] == 4) {
                if (is_self(data.subspan(13))) return issuer::self;
                named = true;
            }
        }
    }
    return named ? issuer::other : issuer::self;
}

}  // namespace

core::result<std::vector<std::uint8_t>, certificate_error> decode_certificate_input(
    std::string_view data) {
    if (data.empty()) return core::fail(certificate_error::empty);
    if ((static_cast<std::uint8_t>(data[0]) & 0x80) != 0) {
        return std::vector<std::uint8_t>(data.begin(), data.end());
    }
    std::vector<std::uint8_t> out;
    bool found = false;
    std::size_t pos = 0;
    while (pos < data.size()) {
        const auto line = next_line(data, pos);
        if (!line.starts_with(begin_marker) || !line.ends_with("-----")) {
            continue;  // text around armored blocks is not part of them (RFC 9580 §6.2)
        }
        found = true;
        if (line.find("SIGNED MESSAGE") != std::string_view::npos) {
            return core::fail(certificate_error::no_certificate);  // RFC 9580 §7
        }
        // Armor headers, then an empty line; a missing empty line is tolerated when the first
        // line after the headers is clearly base64.
        std::string body;
        bool in_headers = true;
        bool ended = false;
        while (pos < data.size()) {
            const auto l = next_line(data, pos);
            if (l.starts_with(end_marker)) {
                ended = true;
                break;
            }
            if (in_headers) {
                if (l.empty()) {
                    in_headers = false;
                    continue;
                }
                if (is_header_line(l)) continue;
                in_headers = false;
            }
            if (l.starts_with("=") && l.size() == 5) continue;  // CRC-24, ignored (RFC 9580 §6.1)
            for (const char c : l) {
                if (c != ' ' && c != '\t' && c != '\r') body.push_back(c);
            }
        }
        if (!ended || !decode_base64(body, out)) {
            return core::fail(certificate_error::not_openpgp);
        }
    }
    if (!found || out.empty()) return core::fail(certificate_error::not_openpgp);
    return out;
}

core::result<scanned_certificate, certificate_error> scan_certificate_packets(
    bytes data, const pgp_limits& limits) {
    // Framing first: the whole input must be well-formed packets before anything is read in them.
    std::vector<packet> packets;
    std::size_t pos = 0;
    while (pos < data.size()) {
        auto p = read_packet(data, pos);
        if (!p) return core::fail(certificate_error::not_openpgp);
        if (packets.size() >= limits.max_packets) return core::fail(certificate_error::too_large);
        packets.push_back(*p);
    }
    if (std::any_of(packets.begin(), packets.end(), [](const packet& p) {
            return p.tag == secret_key || p.tag == secret_subkey;
        })) {
        return core::fail(certificate_error::secret_key_material);
    }
    // Only what a certificate is made of: nothing the scan would pass unread and librnp might read
    // differently (a marker carrying an armored key, a compressed packet, ...).
    for (const auto& p : packets) {
        if (is_message_tag(p.tag)) return core::fail(certificate_error::no_certificate);
        if (!is_certificate_tag(p.tag) || (p.tag == marker && !is_marker_body(p.body))) {
            return core::fail(certificate_error::not_openpgp);
        }
    }
    const auto ignorable = [](std::uint8_t t) { return t == marker || t == trust || t == padding; };
    auto first = std::find_if(packets.begin(), packets.end(),
                              [&](const packet& p) { return !ignorable(p.tag); });
    if (first == packets.end()) return core::fail(certificate_error::not_openpgp);
    switch (first->tag) {
        case public_key:
            break;
        case public_subkey:
            return core::fail(certificate_error::subkey_only);
        case signature:  // a detached signature (message packets were refused above)
            return core::fail(certificate_error::no_certificate);
        default:
            return core::fail(certificate_error::not_openpgp);  // a user ID or attribute first
    }

    if (auto checked = check_key_material(first->body, true, limits); !checked) {
        return core::fail(checked.error());
    }
    const auto fingerprint = v4_fingerprint(first->body);
    const auto self = key_id_of(fingerprint);
    // Signatures are counted against what they follow: the primary key (direct signatures), the
    // last user ID or attribute, or the last subkey (RFC 9580 §10.1.1, transferable public keys).
    enum class place { primary, user, subkey } where = place::primary;
    std::size_t user_ids = 0;
    std::size_t subkeys = 0;
    std::size_t signatures = 0;
    std::size_t here = 0;  // self-signatures on the primary or current user ID, or subkey sigs
    for (auto it = std::next(first); it != packets.end(); ++it) {
        switch (it->tag) {
            case public_key:
                return core::fail(certificate_error::several_certificates);
            case user_id:
            case user_attribute:
                if (++user_ids > limits.max_user_ids) {
                    return core::fail(certificate_error::too_large);
                }
                where = place::user;
                here = 0;
                break;
            case public_subkey:
                if (++subkeys > limits.max_subkeys) {
                    return core::fail(certificate_error::too_large);
                }
                if (auto checked = check_key_material(it->body, false, limits); !checked) {
                    return core::fail(checked.error());
                }
                where = place::subkey;
                here = 0;
                break;
            case signature: {
                if (++signatures > limits.max_signatures) {
                    return core::fail(certificate_error::too_large);
                }
                if (where == place::subkey) {
                    // Bindings and revocations of a subkey are the primary key's; every one
                    // of them is verified.
                    if (++here > limits.max_signatures_per_subkey) {
                        return core::fail(certificate_error::too_large);
                    }
                } else if (issuer_of(it->body, self) == issuer::self &&
                           ++here > limits.max_self_signatures_per_user_id) {
                    return core::fail(certificate_error::too_large);
                }
                break;
            }
            default:
                break;  // markers, trust, padding
        }
    }
    // librnp looks for an armor header line in whatever input it is given, binary or not, and if
    // it finds one reads the armored key after it instead of the packets checked here (a
    // "polyglot": a user ID or a trust packet carrying a whole armored certificate). No
    // certificate needs that text in its packets.
    static constexpr std::string_view armor_begin = "-----BEGIN PGP";
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (text.find(armor_begin) != std::string_view::npos) {
        return core::fail(certificate_error::not_openpgp);
    }
    return scanned_certificate{fingerprint ? upper_hex(*fingerprint) : std::string()};
}

}  // namespace secms::pgp

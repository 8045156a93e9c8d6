#include "server/mail/mail_request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "server/mail/message_headers.hpp"

namespace secms::mail {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
    T value{};
    if (text.empty() || text.size() > 12) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The single value of a parameter: absent → nullopt, given twice → bad_request.
core::result<std::optional<std::string>, mail_error> single(std::string_view target,
                                                            std::string_view name) {
    auto values = query_values(target, name);
    if (!values) return core::fail(values.error());
    if (values->empty()) return std::optional<std::string>{};
    if (values->size() > 1) return core::fail(mail_error::bad_request);
    return std::optional<std::string>{std::move(values->front())};
}

bool iso_date(std::string_view d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    }
    auto month = parse_number<int>(d.substr(5, 2));
    auto day = parse_number<int>(d.substr(8, 2));
    return month && day && *month >= 1 && *month <= 12 && *day >= 1 && *day <= 31;
}

bool search_text_ok(std::string_view s) {
    if (s.size() > max_query_chars) return false;
    return std::none_of(s.begin(), s.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
}

bool username_char(char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
}

}  // namespace

core::result<std::vector<std::string>, mail_error> query_values(std::string_view target,
                                                                std::string_view name) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return core::fail(mail_error::bad_request);
    std::vector<std::string> out;
    for (auto param : parsed->params()) {
        if (param.key == name) out.push_back(param.has_value ? std::string(param.value) : "");
    }
    return out;
}

core::result<list_request, mail_error> parse_list_request(std::string_view target) {
    list_request req;
    auto get = [&](std::string_view name, std::string* out) -> bool {
        auto v = single(target, name);
        if (!v) return false;
        if (*v) *out = std::move(**v);
        return true;
    };
    std::string folder, sort, order, offset, limit, threads, flags, since, before;
    auto& q = req.query;
    if (!get("folder", &folder) || !get("sort", &sort) || !get("order", &order) ||
        !get("offset", &offset) || !get("limit", &limit) || !get("threads", &threads) ||
        !get("q", &q.quick) || !get("from", &q.from) || !get("to", &q.to) ||
        !get("subject", &q.subject) || !get("body", &q.body) || !get("text", &q.text) ||
        !get("since", &since) || !get("before", &before) || !get("flags", &flags)) {
        return core::fail(mail_error::bad_request);
    }
    if (!folder.empty()) req.folder = folder;
    if (!acceptable_folder(req.folder)) return core::fail(mail_error::bad_request);
    if (sort.empty() || sort == "date") {
        req.sort = sort_key::date;
    } else if (sort == "arrival") {
        req.sort = sort_key::arrival;
    } else if (sort == "from") {
        req.sort = sort_key::from;
    } else if (sort == "subject") {
        req.sort = sort_key::subject;
    } else if (sort == "size") {
        req.sort = sort_key::size;
    } else {
        return core::fail(mail_error::bad_request);
    }
    if (order.empty() || order == "desc") {
        req.descending = true;
    } else if (order == "asc") {
        req.descending = false;
    } else {
        return core::fail(mail_error::bad_request);
    }
    if (!offset.empty()) {
        auto n = parse_number<std::size_t>(offset);
        if (!n || *n > 10'000'000) return core::fail(mail_error::bad_request);
        req.offset = *n;
    }
    if (!limit.empty()) {
        auto n = parse_number<std::size_t>(limit);
        if (!n || *n == 0 || *n > max_page_size) return core::fail(mail_error::bad_request);
        req.limit = *n;
    }
    if (threads.empty() || threads == "0") {
        req.threads = false;
    } else if (threads == "1") {
        req.threads = true;
    } else {
        return core::fail(mail_error::bad_request);
    }
    for (const std::string* s : {&q.quick, &q.from, &q.to, &q.subject, &q.body, &q.text}) {
        if (!search_text_ok(*s)) return core::fail(mail_error::bad_request);
    }
    if (!since.empty()) {
        if (!iso_date(since)) return core::fail(mail_error::bad_request);
        q.since = since;
    }
    if (!before.empty()) {
        if (!iso_date(before)) return core::fail(mail_error::bad_request);
        q.before = before;
    }
    std::size_t start = 0;
    while (!flags.empty() && start <= flags.size()) {
        auto comma = flags.find(',', start);
        std::string word =
            flags.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        static constexpr std::string_view known[] = {"seen", "unseen", "flagged", "unflagged",
                                                     "answered"};
        if (std::find(std::begin(known), std::end(known), word) == std::end(known))
            return core::fail(mail_error::bad_request);
        if (std::find(q.flags.begin(), q.flags.end(), word) == q.flags.end())
            q.flags.push_back(word);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return req;
}

core::result<send_request, mail_error> parse_send_request(std::string_view target,
                                                          std::size_t max_recipients) {
    send_request req;
    auto to = query_values(target, "to");
    if (!to) return core::fail(to.error());
    if (to->empty() || to->size() > max_recipients) return core::fail(mail_error::bad_request);
    for (auto& address : *to) {
        if (!valid_address(address)) return core::fail(mail_error::bad_request);
        auto normal = lower_domain(address);
        if (std::find(req.to.begin(), req.to.end(), normal) == req.to.end())
            req.to.push_back(std::move(normal));
    }
    auto draft = single(target, "draft_uid");
    if (!draft) return core::fail(draft.error());
    if (*draft) {
        auto uid = parse_number<std::uint32_t>(**draft);
        if (!uid || *uid == 0) return core::fail(mail_error::bad_request);
        req.draft_uid = *uid;
    }
    return req;
}

core::result<append_request, mail_error> parse_append_request(std::string_view target) {
    append_request req;
    auto folder = single(target, "folder");
    if (!folder) return core::fail(folder.error());
    req.folder = *folder ? **folder : "Drafts";
    if (!acceptable_folder(req.folder)) return core::fail(mail_error::bad_request);
    auto flags = single(target, "flags");
    if (!flags) return core::fail(flags.error());
    if (*flags && !(*flags)->empty()) {
        std::string_view list = **flags;
        std::size_t start = 0;
        for (;;) {
            auto comma = list.find(',', start);
            auto flag = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
            if (!settable_flag(flag)) return core::fail(mail_error::bad_request);
            req.flags.emplace_back(flag);
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    return req;
}

bool settable_flag(std::string_view flag) {
    static constexpr std::string_view known[] = {"\\Seen",    "\\Flagged", "\\Answered",
                                                 "\\Deleted", "\\Draft",   "$Forwarded",
                                                 "$MDNSent",  "$Junk",     "$NotJunk"};
    return std::find(std::begin(known), std::end(known), flag) != std::end(known);
}

core::result<std::vector<std::string>, mail_error> flag_list(const boost::json::value* v) {
    std::vector<std::string> out;
    if (v == nullptr) return out;
    if (!v->is_array() || v->as_array().size() > 16) return core::fail(mail_error::bad_request);
    for (const auto& item : v->as_array()) {
        if (!item.is_string() || !settable_flag(item.as_string()))
            return core::fail(mail_error::bad_request);
        out.emplace_back(item.as_string());
    }
    return out;
}

core::result<std::vector<std::uint32_t>, mail_error> uid_list(const boost::json::value* v) {
    if (v == nullptr || !v->is_array()) return core::fail(mail_error::bad_request);
    const auto& array = v->as_array();
    if (array.empty() || array.size() > max_uids_per_request)
        return core::fail(mail_error::bad_request);
    std::vector<std::uint32_t> out;
    out.reserve(array.size());
    for (const auto& item : array) {
        if (!item.is_int64() && !item.is_uint64()) return core::fail(mail_error::bad_request);
        auto n = item.is_int64() ? item.as_int64() : static_cast<std::int64_t>(item.as_uint64());
        if (n <= 0 || n > 0xffffffffLL) return core::fail(mail_error::bad_request);
        out.push_back(static_cast<std::uint32_t>(n));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool acceptable_folder(std::string_view path) {
    return valid_folder_path(path, '/');
}

bool reserved_folder_name(std::string_view path) {
    static constexpr std::string_view exact[] = {"cur", "new", "tmp", "subscriptions",
                                                 "maildirfolder"};
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string segment = lower(path.substr(start, end - start));
        if (segment.starts_with('.') || segment.starts_with("dovecot")) return true;
        for (auto name : exact) {
            if (segment == name) return true;
        }
        start = end + 1;
    }
    return false;
}

std::string address_of(std::string_view username, std::string_view domain) {
    return lower(username) + "@" + lower(domain);
}

bool same_address(std::string_view a, std::string_view b) {
    return lower_domain(a) == lower_domain(b);
}

core::result<recipient_split, mail_error> split_recipients(std::span<const std::string> rcpts,
                                                           std::string_view domain) {
    recipient_split out;
    const std::string own = lower(domain);
    for (const auto& rcpt : rcpts) {
        if (!valid_address(rcpt)) return core::fail(mail_error::bad_request);
        auto at = rcpt.rfind('@');
        std::string rcpt_domain = lower(std::string_view(rcpt).substr(at + 1));
        if (rcpt_domain == own) {
            std::string_view local = std::string_view(rcpt).substr(0, at);
            // Local parts that cannot be a user name cannot be a mailbox here either.
            if (local.empty() || local.size() > 64 ||
                !std::all_of(local.begin(), local.end(), username_char)) {
                out.local.push_back(lower(rcpt));
                out.usernames.emplace_back();
                continue;
            }
            out.local.push_back(lower(rcpt));
            out.usernames.push_back(lower(local));
        } else {
            out.external.push_back(lower_domain(rcpt));
        }
    }
    return out;
}

bool public_address(const boost::asio::ip::address& address) {
    if (address.is_unspecified() || address.is_loopback() || address.is_multicast()) return false;
    if (address.is_v6()) {
        auto v6 = address.to_v6();
        if (v6.is_v4_mapped()) {
            return public_address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
        }
        if (v6.is_link_local() || v6.is_site_local()) return false;
        auto b = v6.to_bytes();
        if ((b[0] & 0xfe) == 0xfc) return false;  // fc00::/7 unique local
        auto embedded = [&b](std::size_t at) {
            return boost::asio::ip::address_v4(
                boost::asio::ip::address_v4::bytes_type{b[at], b[at + 1], b[at + 2], b[at + 3]});
        };
        auto zero = [&b](std::size_t from, std::size_t to) {
            return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(from),
                               b.begin() + static_cast<std::ptrdiff_t>(to),
                               [](unsigned char x) { return x == 0; });
        };
        // ::/96 IPv4-compatible (deprecated, RFC 4291 §2.5.5.1): never a real host.
        if (zero(0, 12)) return false;
        // ::ffff:0:0/96 IPv4-translated (RFC 2765): the embedded address decides.
        if (zero(0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) {
            return public_address(embedded(12));
        }
        // 64:ff9b::/96 NAT64 (RFC 6052): the embedded address decides; 64:ff9b:1::/48 is
        // local-use NAT64 (RFC 8215), refused.
        if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
            if (zero(4, 12)) return public_address(embedded(12));
            return false;
        }
        // 2002::/16 6to4 (RFC 3056): the embedded address decides.
        if (b[0] == 0x20 && b[1] == 0x02) return public_address(embedded(2));
        // 2001::/32 Teredo (RFC 4380): the server address is embedded, the client's obfuscated.
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return false;
        return true;
    }
    auto b = address.to_v4().to_bytes();
    if (b[0] == 10 || b[0] == 0 || b[0] == 127) return false;
    if (b[0] == 198 && (b[1] & 0xfe) == 18) return false;  // 198.18/15 benchmarking
    if (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) return false;  // IETF, TEST-NET-1
    if (b[0] == 198 && b[1] == 51 && b[2] == 100) return false;              // TEST-NET-2
    if (b[0] == 203 && b[1] == 0 && b[2] == 113) return false;               // TEST-NET-3
    if (b[0] == 172 && (b[1] & 0xf0) == 16) return false;
    if (b[0] == 192 && b[1] == 168) return false;
    if (b[0] == 169 && b[1] == 254) return false;
    if (b[0] == 100 && (b[1] & 0xc0) == 64) return false;  // 100.64/10 carrier-grade NAT
    if (b[0] >= 224) return false;                         // multicast, reserved, broadcast
    return true;
}

}  // namespace secms::mail

// Pure parsing and checks of mail API requests (no I/O): query parameters, uid lists, flags,
// recipients, and which addresses an external account's server may have.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/mail_error.hpp"

namespace secms::mail {

inline constexpr std::size_t max_page_size = 200;
inline constexpr std::size_t max_uids_per_request = 1000;
inline constexpr std::size_t max_query_chars = 1000;  // each search term

struct list_request {
    std::string folder = "INBOX";
    sort_key sort = sort_key::date;
    bool descending = true;
    std::size_t offset = 0;
    std::size_t limit = 50;
    bool threads = false;
    search_query query;
};

// The values of one query parameter of a request target ("/path?a=1&a=2"), percent-decoded.
// Malformed target → bad_request.
core::result<std::vector<std::string>, mail_error> query_values(std::string_view target,
                                                                std::string_view name);

// GET /messages: every parameter checked (unknown sort/order, limit over 200, bad dates or
// flags → bad_request).
core::result<list_request, mail_error> parse_list_request(std::string_view target);

struct send_request {
    std::vector<std::string> to;
    std::optional<std::uint32_t> draft_uid;
};
// POST /send: one to= per recipient (1..max_recipients valid addresses), optional draft_uid.
core::result<send_request, mail_error> parse_send_request(std::string_view target,
                                                          std::size_t max_recipients);

struct append_request {
    std::string folder;
    std::vector<std::string> flags;
};
// POST /append?folder=Drafts&flags=\Draft,\Seen
core::result<append_request, mail_error> parse_append_request(std::string_view target);

// A flag the API lets a client set: \Seen \Flagged \Answered \Deleted \Draft $Forwarded
// $MDNSent $Junk $NotJunk.
bool settable_flag(std::string_view flag);
// A JSON array of flags, each settable (empty array allowed; missing → empty).
core::result<std::vector<std::string>, mail_error> flag_list(const boost::json::value* v);
// A JSON array of 1..1000 positive 32-bit UIDs.
core::result<std::vector<std::uint32_t>, mail_error> uid_list(const boost::json::value* v);
// A folder path given by a client: the rules of valid_folder_path.
bool acceptable_folder(std::string_view path);
// A new folder name (create, rename target) with a segment that Dovecot's Maildir LAYOUT=fs
// would put beside the parent folder's own files: "cur", "new", "tmp", "subscriptions",
// "maildirfolder", or one starting with "dovecot" or "." (any case).
bool reserved_folder_name(std::string_view path);
inline constexpr std::string_view reserved_folder_message =
    "Folder names may not be cur, new, tmp, subscriptions or maildirfolder, nor begin with "
    "\"dovecot\" or a dot.";

// alice → "alice@<domain>" (lower case).
std::string address_of(std::string_view username, std::string_view domain);
// Equal addresses: the local part as written, the domain without case.
bool same_address(std::string_view a, std::string_view b);

struct recipient_split {
    std::vector<std::string> local;      // addresses at the mail domain
    std::vector<std::string> usernames;  // their local parts, lower case, same order
    std::vector<std::string> external;   // every other domain
};
// Splits recipients by domain (each must be a valid address, else bad_request).
core::result<recipient_split, mail_error> split_recipients(std::span<const std::string> rcpts,
                                                           std::string_view domain);

// Whether an external account's server may be at this address: not loopback, private,
// link-local, multicast, unspecified (IPv4 and IPv6, IPv4-mapped included).
bool public_address(const boost::asio::ip::address& address);

}  // namespace secms::mail

// One synchronous IMAP connection (libetpan), for one user: folders, search, fetch, flags,
// append and IDLE. Every call blocks (bounded by the endpoint's timeout); the service layer runs
// them on its work pool and never uses one instance from two threads at once.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/mail/mail_error.hpp"

namespace secms::mail {

enum class tls_mode { none, starttls, tls };

struct imap_endpoint {
    std::string host;
    std::uint16_t port = 0;
    tls_mode tls = tls_mode::none;
    std::chrono::seconds timeout{30};
    // Set for an external account's server (the SSRF guard, public_address): every
    // connection resolves the name once, is refused when any address fails this check, and goes
    // to a checked address (the name only for SNI and the certificate check); resolve_checked.
    std::function<bool(const boost::asio::ip::address&)> address_allowed = nullptr;
};

struct mail_address {
    std::string name;
    std::string address;
};

enum class special_use { none, inbox, sent, drafts, trash, junk, archive };

struct folder_info {
    std::string path;  // UTF-8, full path with the server's delimiter
    std::string name;  // the last segment, UTF-8
    char delimiter = '/';
    special_use use = special_use::none;
    bool subscribed = false;
    bool selectable = true;
    std::uint32_t total = 0;
    std::uint32_t unseen = 0;
};

struct message_summary {
    std::uint32_t uid = 0;
    std::vector<std::string> flags;
    std::uint32_t size = 0;
    std::string date_iso;  // Date header as ISO 8601 UTC, else INTERNALDATE
    std::int64_t date_unix = 0;
    std::vector<mail_address> from, to, cc, reply_to;
    std::string subject;  // RFC 2047-decoded UTF-8
    std::string message_id, in_reply_to;
    std::vector<std::string> references;
    std::string content_type;  // "multipart/encrypted"
    bool has_attachment = false;
};

enum class sort_key { date, arrival, from, subject, size };

struct search_query {
    std::string quick;  // OR FROM x SUBJECT x
    std::string from, to, subject, body, text;
    std::optional<std::string> since, before;  // YYYY-MM-DD
    std::vector<std::string> flags;            // seen unseen flagged unflagged answered
};

struct select_info {
    std::uint32_t uidvalidity = 0;
    std::uint32_t exists = 0;
    std::uint32_t uidnext = 0;
};

// The storage of a quota root (RFC 2087 STORAGE, counted by the server in KiB).
struct quota_usage {
    std::uint64_t used_bytes = 0;
    std::uint64_t limit_bytes = 0;
};

enum class idle_event { none, changed /* EXISTS/EXPUNGE/FETCH/RECENT seen */, closed };

struct imap_connection;  // libetpan state, defined in imap_internal.hpp

class imap_session {  // one IMAP connection; not thread-safe; movable, not copyable
  public:
    // Connects and logs in (LOGIN with user/password; for the master user, user = "alice*secms").
    static core::result<imap_session, mail_error> open(const imap_endpoint& endpoint,
                                                       std::string_view user,
                                                       const core::secret_string& password);
    ~imap_session();  // LOGOUT best effort, then closes
    imap_session(imap_session&& other) noexcept;
    imap_session& operator=(imap_session&& other) noexcept;
    imap_session(const imap_session&) = delete;
    imap_session& operator=(const imap_session&) = delete;

    bool alive() const noexcept;
    // LIST "" "*" + LSUB + STATUS (MESSAGES UNSEEN)
    core::result<std::vector<folder_info>, mail_error> folders();
    core::status<mail_error> create_folder(std::string_view path);
    core::status<mail_error> rename_folder(std::string_view from, std::string_view to);
    core::status<mail_error> delete_folder(std::string_view path);
    core::status<mail_error> subscribe(std::string_view path, bool on);
    // Cached: no-op if already selected.
    core::result<select_info, mail_error> select(std::string_view path);
    // NOOP, then STATUS (MESSAGES UIDNEXT UIDVALIDITY) of the selected folder: the session's view
    // brought up to date and the counts as they are now (select's may be from before an arrival
    // or an expunge that IDLE has not reported yet).
    core::result<select_info, mail_error> refresh_selected();
    // UIDs of the selected folder in the order asked (UID SORT; falls back to UID SEARCH + sort
    // by fetched keys if SORT is missing), filtered by the query.
    core::result<std::vector<std::uint32_t>, mail_error> sorted_uids(sort_key key, bool descending,
                                                                     const search_query& query);
    // In the order given; UIDs that no longer exist are left out.
    core::result<std::vector<message_summary>, mail_error> summaries(
        std::span<const std::uint32_t> uids);
    // BODY.PEEK[]: never sets \Seen. Bigger than max_bytes → too_large.
    core::result<std::string, mail_error> raw_message(std::uint32_t uid, std::size_t max_bytes);
    core::status<mail_error> store_flags(std::span<const std::uint32_t> uids,
                                         std::span<const std::string> add,
                                         std::span<const std::string> remove);
    core::status<mail_error> move(std::span<const std::uint32_t> uids, std::string_view to,
                                  bool copy);
    // UID EXPUNGE (UIDPLUS) of the given \Deleted ones.
    core::status<mail_error> expunge(std::span<const std::uint32_t> uids);
    // The new UID when the server reports APPENDUID.
    core::result<std::optional<std::uint32_t>, mail_error> append(
        std::string_view folder, std::string_view raw, std::span<const std::string> flags);
    core::result<std::uint32_t, mail_error> unseen_count(std::string_view folder);  // STATUS
    // GETQUOTAROOT INBOX: the STORAGE resource of INBOX's quota root; none when the server has
    // no QUOTA capability or sets no storage limit.
    core::result<std::optional<quota_usage>, mail_error> quota();

    // IDLE, split so the caller can wait on the socket with Asio instead of a thread:
    core::status<mail_error> idle_start();  // sends IDLE, waits for "+"
    int idle_fd() const noexcept;           // the socket to wait on for readability
    idle_event idle_poll();                 // after readability: reads what's there
    core::status<mail_error> idle_done();   // sends DONE, reads the tagged OK

    bool has_capability(std::string_view cap) const;

  private:
    explicit imap_session(std::unique_ptr<imap_connection> connection) noexcept;
    std::unique_ptr<imap_connection> connection_;
};

// IMAP modified UTF-7 (RFC 3501 §5.1.3) ⇄ UTF-8. Invalid input → bad_request.
core::result<std::string, mail_error> utf8_to_mutf7(std::string_view utf8);
core::result<std::string, mail_error> mutf7_to_utf8(std::string_view mutf7);
// Folder path rules: non-empty, ≤ 255 bytes, valid UTF-8, no control characters, no '*' or
// '%', no empty segment around the delimiter.
bool valid_folder_path(std::string_view path, char delimiter = '/');

}  // namespace secms::mail

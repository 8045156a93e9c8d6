// Private to the IMAP client (imap_*.cpp): libetpan RAII, the connection state behind
// imap_session, and the small helpers the files by concern share. Not for other modules.
#pragma once

#include <libetpan/libetpan.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "server/mail/imap_session.hpp"

namespace secms::mail {

namespace imap_detail {

// RAII for libetpan's C objects.
struct imap_deleter {
    void operator()(mailimap* s) const noexcept { mailimap_free(s); }
};
template <class T, void (*Free)(T*)>
struct c_deleter {
    void operator()(T* p) const noexcept {
        if (p != nullptr) Free(p);
    }
};
using set_ptr = std::unique_ptr<mailimap_set, c_deleter<mailimap_set, mailimap_set_free>>;
using fetch_type_ptr =
    std::unique_ptr<mailimap_fetch_type, c_deleter<mailimap_fetch_type, mailimap_fetch_type_free>>;
using search_key_ptr =
    std::unique_ptr<mailimap_search_key, c_deleter<mailimap_search_key, mailimap_search_key_free>>;
using sort_key_ptr =
    std::unique_ptr<mailimap_sort_key, c_deleter<mailimap_sort_key, mailimap_sort_key_free>>;
using flag_list_ptr =
    std::unique_ptr<mailimap_flag_list, c_deleter<mailimap_flag_list, mailimap_flag_list_free>>;
using status_list_ptr =
    std::unique_ptr<mailimap_status_att_list,
                    c_deleter<mailimap_status_att_list, mailimap_status_att_list_free>>;
using status_ptr =
    std::unique_ptr<mailimap_mailbox_data_status,
                    c_deleter<mailimap_mailbox_data_status, mailimap_mailbox_data_status_free>>;
using capability_ptr =
    std::unique_ptr<mailimap_capability_data,
                    c_deleter<mailimap_capability_data, mailimap_capability_data_free>>;

inline void free_list_result(clist* list) {
    mailimap_list_result_free(list);
}
inline void free_fetch_result(clist* list) {
    mailimap_fetch_list_free(list);
}
inline void free_uid_list(clist* list) {
    mailimap_search_result_free(list);
}
using list_result_ptr = std::unique_ptr<clist, c_deleter<clist, free_list_result>>;
using fetch_result_ptr = std::unique_ptr<clist, c_deleter<clist, free_fetch_result>>;
using uid_list_ptr = std::unique_ptr<clist, c_deleter<clist, free_uid_list>>;

// A malloc'd NUL-terminated copy, for libetpan constructors that take ownership.
char* dup(std::string_view s);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
// Strings the caller passes into commands: libetpan quotes them, but a CR, LF or NUL inside a
// quoted string would end the command line, so they are refused outright.
bool safe_argument(std::string_view s);
set_ptr uid_set(std::span<const std::uint32_t> uids);

}  // namespace imap_detail

// ---------------------------------------------------------------------------------------------
// The state behind one imap_session.
struct imap_connection {
    imap_connection() = default;
    imap_connection(const imap_connection&) = delete;
    imap_connection& operator=(const imap_connection&) = delete;
    // A dead stream is closed without the LOGOUT that mailimap_free would try (and wait for).
    ~imap_connection() {
        if (!alive && imap && imap->imap_stream != nullptr) {
            mailstream_close(imap->imap_stream);
            imap->imap_stream = nullptr;
        }
    }

    std::unique_ptr<mailimap, imap_detail::imap_deleter> imap;
    std::chrono::seconds timeout{30};
    bool alive = true;
    std::set<std::string> capabilities;   // upper case
    std::optional<std::string> selected;  // UTF-8 path
    char delimiter = 0;                   // learnt from LIST
    bool idling = false;
    std::string idle_buffer;  // bytes read while idling (untagged responses)
    std::chrono::steady_clock::time_point command_start;

    void start() { command_start = std::chrono::steady_clock::now(); }

    // Maps a libetpan error of the last command; stream errors end the connection.
    mail_error failure(int r, mail_error on_no = mail_error::protocol);
    // The last tagged answer was NO [OVERQUOTA] (RFC 9208 §4.3; Dovecot's quota plugin for
    // APPEND, COPY and MOVE into a full mailbox). libetpan keeps an unknown response code's atom.
    bool over_quota() const;
    void load_capabilities();
    // A folder path checked (valid_folder_path) and encoded in modified UTF-7.
    core::result<std::string, mail_error> encode_path(std::string_view path);
    // The same, but "INBOX" in any case is the inbox (RFC 3501 §5.1), passed as is.
    core::result<std::string, mail_error> encode_mailbox(std::string_view path);

    // LIST "" <name>: the folder's flags when it exists.
    core::result<std::optional<folder_info>, mail_error> find(const std::string& encoded);
    folder_info describe(const mailimap_mailbox_list* mb);
};

// Why a command cannot run on this connection now (gone; or no folder selected when the
// command needs one), if it cannot.
inline std::optional<mail_error> not_ready(const imap_connection* c, bool needs_selection) {
    if (c == nullptr || !c->alive) return mail_error::unavailable;
    if (needs_selection && !c->selected) return mail_error::folder_not_found;
    return std::nullopt;
}

}  // namespace secms::mail

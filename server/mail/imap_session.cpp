#include "server/mail/imap_session.hpp"

#include <libetpan/libetpan.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "server/mail/message_headers.hpp"
#include "server/mail/tls_verify.hpp"

namespace secms::mail {

// ---------------------------------------------------------------------------------------------
// RAII for libetpan's C objects.
namespace {

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

void free_list_result(clist* list) {
    mailimap_list_result_free(list);
}
void free_fetch_result(clist* list) {
    mailimap_fetch_list_free(list);
}
void free_uid_list(clist* list) {
    mailimap_search_result_free(list);
}
using list_result_ptr = std::unique_ptr<clist, c_deleter<clist, free_list_result>>;
using fetch_result_ptr = std::unique_ptr<clist, c_deleter<clist, free_fetch_result>>;
using uid_list_ptr = std::unique_ptr<clist, c_deleter<clist, free_uid_list>>;

char* dup(std::string_view s) {
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out == nullptr) std::abort();
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Strings the caller passes into commands: libetpan quotes them, but a CR, LF or NUL inside a
// quoted string would end the command line, so they are refused outright.
bool safe_argument(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

set_ptr uid_set(std::span<const std::uint32_t> uids) {
    set_ptr set(mailimap_set_new_empty());
    for (const auto uid : uids) mailimap_set_add_single(set.get(), uid);
    return set;
}

// Flags of the API: system flags with a backslash, keywords as atoms.
mailimap_flag* make_flag(std::string_view name) {
    const std::string u = upper(name);
    if (u == "\\SEEN") return mailimap_flag_new_seen();
    if (u == "\\ANSWERED") return mailimap_flag_new_answered();
    if (u == "\\FLAGGED") return mailimap_flag_new_flagged();
    if (u == "\\DELETED") return mailimap_flag_new_deleted();
    if (u == "\\DRAFT") return mailimap_flag_new_draft();
    if (name.empty() || name.size() > 64 || name.front() == '\\') return nullptr;
    for (const char c : name) {
        const auto uc = static_cast<unsigned char>(c);
        if (uc <= 0x20 || uc >= 0x7F ||
            std::string_view("(){%*\"\\]").find(c) != std::string_view::npos) {
            return nullptr;
        }
    }
    return mailimap_flag_new_flag_keyword(dup(name));
}

std::string flag_name(const mailimap_flag* flag) {
    switch (flag->fl_type) {
        case MAILIMAP_FLAG_ANSWERED:
            return "\\Answered";
        case MAILIMAP_FLAG_FLAGGED:
            return "\\Flagged";
        case MAILIMAP_FLAG_DELETED:
            return "\\Deleted";
        case MAILIMAP_FLAG_SEEN:
            return "\\Seen";
        case MAILIMAP_FLAG_DRAFT:
            return "\\Draft";
        case MAILIMAP_FLAG_KEYWORD:
            return flag->fl_data.fl_keyword ? flag->fl_data.fl_keyword : "";
        case MAILIMAP_FLAG_EXTENSION:
            return flag->fl_data.fl_extension ? std::string("\\") + flag->fl_data.fl_extension : "";
        default:
            return "";
    }
}

core::result<flag_list_ptr, mail_error> make_flag_list(std::span<const std::string> names) {
    flag_list_ptr list(mailimap_flag_list_new_empty());
    for (const auto& name : names) {
        mailimap_flag* flag = make_flag(name);
        if (flag == nullptr) return core::fail(mail_error::bad_request);
        mailimap_flag_list_add(list.get(), flag);
    }
    return list;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// zone is ±hhmm as an integer (e.g. -130 for -01:30).
std::int64_t to_unix(int year, int month, int day, int hour, int minute, int second, int zone) {
    const int sign = zone < 0 ? -1 : 1;
    const int zone_abs = zone * sign;
    const int offset = sign * ((zone_abs / 100) * 3600 + (zone_abs % 100) * 60);
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           hour * 3600 + minute * 60 + second - offset;
}

std::string iso_utc(std::int64_t unix_time) {
    const std::time_t t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::optional<std::int64_t> parse_date_header(const char* value) {
    if (value == nullptr) return std::nullopt;
    std::size_t index = 0;
    mailimf_date_time* dt = nullptr;
    if (mailimf_date_time_parse(value, std::strlen(value), &index, &dt) != MAILIMF_NO_ERROR ||
        dt == nullptr) {
        return std::nullopt;
    }
    const auto out = to_unix(dt->dt_year, dt->dt_month, dt->dt_day, dt->dt_hour, dt->dt_min,
                             dt->dt_sec, dt->dt_zone);
    const bool plausible = dt->dt_year >= 1970 && dt->dt_year < 10000 && dt->dt_month >= 1 &&
                           dt->dt_month <= 12 && dt->dt_day >= 1 && dt->dt_day <= 31;
    mailimf_date_time_free(dt);
    if (!plausible) return std::nullopt;
    return out;
}

void add_addresses(std::vector<mail_address>& out, clist* list) {
    if (list == nullptr) return;
    for (clistiter* it = clist_begin(list); it != nullptr; it = clist_next(it)) {
        const auto* a = static_cast<const mailimap_address*>(clist_content(it));
        // Group markers have no host (RFC 3501 §7.4.2): skipped, their members are listed.
        if (a->ad_mailbox_name == nullptr || a->ad_host_name == nullptr) continue;
        mail_address address;
        if (a->ad_personal_name != nullptr) address.name = decode_words(a->ad_personal_name);
        address.address = std::string(a->ad_mailbox_name) + "@" + a->ad_host_name;
        out.push_back(std::move(address));
    }
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const char* media_basic_type(const mailimap_media_basic* media) {
    switch (media->med_type) {
        case MAILIMAP_MEDIA_BASIC_APPLICATION:
            return "application";
        case MAILIMAP_MEDIA_BASIC_AUDIO:
            return "audio";
        case MAILIMAP_MEDIA_BASIC_IMAGE:
            return "image";
        case MAILIMAP_MEDIA_BASIC_MESSAGE:
            return "message";
        case MAILIMAP_MEDIA_BASIC_VIDEO:
            return "video";
        default:
            return media->med_basic_type ? media->med_basic_type : "application";
    }
}

std::string content_type_of(const mailimap_body* body) {
    if (body == nullptr) return "";
    if (body->bd_type == MAILIMAP_BODY_MPART) {
        return "multipart/" + lower(body->bd_data.bd_body_mpart->bd_media_subtype);
    }
    const auto* part = body->bd_data.bd_body_1part;
    switch (part->bd_type) {
        case MAILIMAP_BODY_TYPE_1PART_TEXT:
            return "text/" + lower(part->bd_data.bd_type_text->bd_media_text);
        case MAILIMAP_BODY_TYPE_1PART_MSG:
            return "message/rfc822";
        case MAILIMAP_BODY_TYPE_1PART_BASIC: {
            const auto* media = part->bd_data.bd_type_basic->bd_media_basic;
            return lower(media_basic_type(media)) + "/" + lower(media->med_subtype);
        }
        default:
            return "";
    }
}

bool has_filename(const mailimap_body_fld_param* params, const char* name) {
    if (params == nullptr || params->pa_list == nullptr) return false;
    for (clistiter* it = clist_begin(params->pa_list); it != nullptr; it = clist_next(it)) {
        const auto* p = static_cast<const mailimap_single_body_fld_param*>(clist_content(it));
        if (p->pa_name != nullptr && strncasecmp(p->pa_name, name, std::strlen(name)) == 0) {
            return true;
        }
    }
    return false;
}

// A part counts as an attachment when its disposition says so or it names a file; the OpenPGP
// structure parts (version, signature) do not. Whether an encrypted message (RFC 3156
// multipart/encrypted, whose second part is always "encrypted.asc") has attachments is known
// only once the page decrypts it: not reported.
bool has_attachment(const mailimap_body* body, int depth = 0) {
    if (body == nullptr || depth > 32) return false;
    if (body->bd_type == MAILIMAP_BODY_MPART) {
        if (content_type_of(body) == "multipart/encrypted") return false;
        const auto* mpart = body->bd_data.bd_body_mpart;
        for (clistiter* it = clist_begin(mpart->bd_list); it != nullptr; it = clist_next(it)) {
            if (has_attachment(static_cast<const mailimap_body*>(clist_content(it)), depth + 1)) {
                return true;
            }
        }
        return false;
    }
    const std::string type = content_type_of(body);
    if (type == "application/pgp-encrypted" || type == "application/pgp-signature") return false;
    const auto* part = body->bd_data.bd_body_1part;
    const mailimap_body_fld_dsp* disposition =
        part->bd_ext_1part ? part->bd_ext_1part->bd_disposition : nullptr;
    if (disposition != nullptr && disposition->dsp_type != nullptr) {
        if (strcasecmp(disposition->dsp_type, "attachment") == 0) return true;
        if (has_filename(disposition->dsp_attributes, "filename")) return true;
    }
    const mailimap_body_fields* fields = nullptr;
    if (part->bd_type == MAILIMAP_BODY_TYPE_1PART_BASIC) {
        fields = part->bd_data.bd_type_basic->bd_fields;
    } else if (part->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG) {
        return depth > 0;  // a forwarded message inside a multipart
    }
    return fields != nullptr && has_filename(fields->bd_parameter, "name");
}

// Message-ids ("<…>") of a header value, in order.
std::vector<std::string> message_ids(std::string_view value) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string_view::npos) {
        const auto end = value.find('>', pos);
        if (end == std::string_view::npos) break;
        const auto id = value.substr(pos, end - pos + 1);
        if (id.find_first_of(" \t\r\n") == std::string_view::npos && id.size() <= 998) {
            out.emplace_back(id);
        }
        pos = end + 1;
        if (out.size() >= 200) break;
    }
    return out;
}

// The unfolded value of one header field in a header block.
std::string header_value(std::string_view block, std::string_view name) {
    std::string out;
    bool in_field = false;
    std::size_t pos = 0;
    while (pos < block.size()) {
        auto eol = block.find('\n', pos);
        if (eol == std::string_view::npos) eol = block.size();
        std::string_view line = block.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (in_field) out += line;
        } else {
            in_field = line.size() > name.size() && line[name.size()] == ':' &&
                       strncasecmp(line.data(), name.data(), name.size()) == 0;
            if (in_field) out += line.substr(name.size() + 1);
        }
        pos = eol + 1;
    }
    return out;
}

special_use use_from_flag(std::string_view flag) {
    if (!flag.empty() && flag.front() == '\\') flag.remove_prefix(1);
    const std::string u = upper(flag);
    if (u == "SENT") return special_use::sent;
    if (u == "DRAFTS") return special_use::drafts;
    if (u == "TRASH") return special_use::trash;
    if (u == "JUNK") return special_use::junk;
    if (u == "ARCHIVE") return special_use::archive;
    return special_use::none;
}

std::optional<mailimap_date*> parse_ymd(const std::string& ymd) {
    if (ymd.size() != 10 || ymd[4] != '-' || ymd[7] != '-') return std::nullopt;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!std::isdigit(static_cast<unsigned char>(ymd[i]))) return std::nullopt;
    }
    const int year = std::stoi(ymd.substr(0, 4));
    const int month = std::stoi(ymd.substr(5, 2));
    const int day = std::stoi(ymd.substr(8, 2));
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    return mailimap_date_new(day, month, year);
}

mailimap_search_key* flag_key(int type) {
    return mailimap_search_key_new(type, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                   nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                   nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                   0, nullptr, nullptr, nullptr);
}

core::result<search_key_ptr, mail_error> build_search(const search_query& q) {
    search_key_ptr all(mailimap_search_key_new_multiple_empty());
    const auto add = [&](mailimap_search_key* key) {
        mailimap_search_key_multiple_add(all.get(), key);
    };
    const auto text_arguments = {&q.quick, &q.from, &q.to, &q.subject, &q.body, &q.text};
    for (const auto* s : text_arguments) {
        if (!safe_argument(*s) || s->size() > 1000) return core::fail(mail_error::bad_request);
    }
    if (!q.quick.empty()) {
        add(mailimap_search_key_new_or(mailimap_search_key_new_from(dup(q.quick)),
                                       mailimap_search_key_new_subject(dup(q.quick))));
    }
    if (!q.from.empty()) add(mailimap_search_key_new_from(dup(q.from)));
    if (!q.to.empty()) add(mailimap_search_key_new_to(dup(q.to)));
    if (!q.subject.empty()) add(mailimap_search_key_new_subject(dup(q.subject)));
    if (!q.body.empty()) add(mailimap_search_key_new_body(dup(q.body)));
    if (!q.text.empty()) add(mailimap_search_key_new_text(dup(q.text)));
    // Dates compare with the Date header (what the list shows), not the arrival time.
    if (q.since) {
        const auto date = parse_ymd(*q.since);
        if (!date) return core::fail(mail_error::bad_request);
        add(mailimap_search_key_new_sentsince(*date));
    }
    if (q.before) {
        const auto date = parse_ymd(*q.before);
        if (!date) return core::fail(mail_error::bad_request);
        add(mailimap_search_key_new_sentbefore(*date));
    }
    for (const auto& f : q.flags) {
        if (f == "seen") {
            add(flag_key(MAILIMAP_SEARCH_KEY_SEEN));
        } else if (f == "unseen") {
            add(flag_key(MAILIMAP_SEARCH_KEY_UNSEEN));
        } else if (f == "flagged") {
            add(flag_key(MAILIMAP_SEARCH_KEY_FLAGGED));
        } else if (f == "unflagged") {
            add(flag_key(MAILIMAP_SEARCH_KEY_UNFLAGGED));
        } else if (f == "answered") {
            add(flag_key(MAILIMAP_SEARCH_KEY_ANSWERED));
        } else {
            return core::fail(mail_error::bad_request);
        }
    }
    if (clist_isempty(all->sk_data.sk_multiple)) add(mailimap_search_key_new_all());
    return all;
}

bool is_ascii(const search_query& q) {
    for (const auto* s : {&q.quick, &q.from, &q.to, &q.subject, &q.body, &q.text}) {
        for (const char c : *s) {
            if (static_cast<unsigned char>(c) >= 0x80) return false;
        }
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
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

    std::unique_ptr<mailimap, imap_deleter> imap;
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
    mail_error failure(int r, mail_error on_no = mail_error::protocol) {
        switch (r) {
            case MAILIMAP_ERROR_STREAM:
            case MAILIMAP_ERROR_CONNECTION_REFUSED:
            case MAILIMAP_ERROR_FATAL:
            case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: {
                alive = false;
                selected.reset();
                const auto elapsed = std::chrono::steady_clock::now() - command_start;
                return elapsed + std::chrono::milliseconds(500) >= timeout
                           ? mail_error::timeout
                           : mail_error::unavailable;
            }
            case MAILIMAP_ERROR_PARSE:
                alive = false;  // the stream's state is unknown now
                selected.reset();
                return mail_error::protocol;
            case MAILIMAP_ERROR_LOGIN:
                return mail_error::login_failed;
            case MAILIMAP_ERROR_MEMORY:
                return mail_error::unavailable;
            default:
                return over_quota() ? mail_error::quota_exceeded : on_no;
        }
    }

    // The last tagged answer was NO [OVERQUOTA] (RFC 9208 §4.3; Dovecot's quota plugin for
    // APPEND, COPY and MOVE into a full mailbox). libetpan keeps an unknown response code's atom.
    bool over_quota() const {
        const auto* info = imap ? imap->imap_response_info : nullptr;
        return info != nullptr && info->rsp_atom != nullptr && upper(info->rsp_atom) == "OVERQUOTA";
    }

    void load_capabilities() {
        capabilities.clear();
        mailimap_capability_data* raw = nullptr;
        start();
        if (mailimap_capability(imap.get(), &raw) != MAILIMAP_NO_ERROR || raw == nullptr) return;
        const capability_ptr caps(raw);
        for (clistiter* it = clist_begin(caps->cap_list); it != nullptr; it = clist_next(it)) {
            const auto* cap = static_cast<const struct mailimap_capability*>(clist_content(it));
            if (cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name) {
                capabilities.insert(upper(cap->cap_data.cap_name));
            } else if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE &&
                       cap->cap_data.cap_auth_type) {
                capabilities.insert("AUTH=" + upper(cap->cap_data.cap_auth_type));
            }
        }
    }

    core::result<std::string, mail_error> encode_path(std::string_view path) {
        if (!valid_folder_path(path, delimiter == 0 ? '/' : delimiter)) {
            return core::fail(mail_error::bad_request);
        }
        return utf8_to_mutf7(path);
    }

    // LIST "" <name>: the folder's flags when it exists.
    core::result<std::optional<folder_info>, mail_error> find(const std::string& encoded) {
        clist* raw = nullptr;
        start();
        const int r = mailimap_list(imap.get(), "", encoded.c_str(), &raw);
        const list_result_ptr list(raw);
        if (r != MAILIMAP_NO_ERROR) return core::fail(failure(r));
        if (!list || clist_isempty(list.get())) return std::optional<folder_info>{};
        return std::optional<folder_info>{
            describe(static_cast<const mailimap_mailbox_list*>(clist_content(clist_begin(raw))))};
    }

    folder_info describe(const mailimap_mailbox_list* mb) {
        folder_info info;
        const auto decoded = mutf7_to_utf8(mb->mb_name ? mb->mb_name : "");
        info.path = decoded ? *decoded : std::string(mb->mb_name ? mb->mb_name : "");
        info.delimiter = mb->mb_delimiter;
        if (mb->mb_delimiter != 0) delimiter = mb->mb_delimiter;
        const auto last = mb->mb_delimiter ? info.path.rfind(mb->mb_delimiter) : std::string::npos;
        info.name = last == std::string::npos ? info.path : info.path.substr(last + 1);
        if (upper(info.path) == "INBOX") {
            info.use = special_use::inbox;
            info.path = "INBOX";
        }
        if (mb->mb_flag != nullptr) {
            if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
                mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT) {
                info.selectable = false;
            }
            for (clistiter* it = clist_begin(mb->mb_flag->mbf_oflags); it != nullptr;
                 it = clist_next(it)) {
                const auto* flag = static_cast<const mailimap_mbx_list_oflag*>(clist_content(it));
                if (flag->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT || !flag->of_flag_ext) {
                    continue;
                }
                const std::string u = upper(flag->of_flag_ext);
                if (u == "NONEXISTENT" || u == "\\NONEXISTENT") info.selectable = false;
                const auto use = use_from_flag(flag->of_flag_ext);
                if (use != special_use::none && info.use == special_use::none) info.use = use;
            }
        }
        return info;
    }
};

imap_session::imap_session(std::unique_ptr<imap_connection> connection) noexcept
    : connection_(std::move(connection)) {}

imap_session::~imap_session() {
    if (connection_ && connection_->imap && connection_->alive) {
        if (connection_->idling) mailimap_idle_done(connection_->imap.get());
        // Best effort, and quick: the logout may not hold a closing session up for long.
        mailimap_set_timeout(connection_->imap.get(), 2);
        mailimap_logout(connection_->imap.get());
    }
}
imap_session::imap_session(imap_session&&) noexcept = default;
imap_session& imap_session::operator=(imap_session&&) noexcept = default;

core::result<imap_session, mail_error> imap_session::open(const imap_endpoint& endpoint,
                                                          std::string_view user,
                                                          const core::secret_string& password) {
    if (endpoint.host.empty() || endpoint.port == 0 || !safe_argument(endpoint.host) ||
        !safe_argument(user) || !safe_argument(password.reveal()) || user.empty()) {
        return core::fail(mail_error::bad_request);
    }
    auto c = std::make_unique<imap_connection>();
    c->timeout = endpoint.timeout;
    c->imap.reset(mailimap_new(0, nullptr));
    if (!c->imap) return core::fail(mail_error::unavailable);
    mailimap_set_timeout(c->imap.get(), static_cast<time_t>(endpoint.timeout.count()));

    std::string host = endpoint.host;
    c->start();
    int r = MAILIMAP_NO_ERROR;
    if (endpoint.tls == tls_mode::tls) {
        r = mailimap_ssl_connect_with_callback(c->imap.get(), host.c_str(), endpoint.port,
                                               detail::set_server_name, &host);
    } else {
        r = mailimap_socket_connect(c->imap.get(), host.c_str(), endpoint.port);
    }
    if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
        r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
        return core::fail(c->failure(r == MAILIMAP_ERROR_SSL ? MAILIMAP_ERROR_STREAM : r,
                                     mail_error::unavailable));
    }
    if (endpoint.tls == tls_mode::starttls) {
        c->start();
        r = mailimap_socket_starttls_with_callback(c->imap.get(), detail::set_server_name, &host);
        if (r != MAILIMAP_NO_ERROR) {
            // A server without STARTTLS is refused rather than used in clear text.
            return core::fail(r == MAILIMAP_ERROR_STARTTLS ? mail_error::external_refused
                                                           : c->failure(r));
        }
    }
    if (endpoint.tls != tls_mode::none &&
        !detail::peer_verified(c->imap->imap_stream, endpoint.host)) {
        c->alive = false;  // not a word more to an unverified peer, not even LOGOUT
        return core::fail(mail_error::external_refused);
    }
    const std::string user_copy(user);
    std::string password_copy(password.reveal());
    c->start();
    r = mailimap_login(c->imap.get(), user_copy.c_str(), password_copy.c_str());
    core::wipe(password_copy.data(), password_copy.size());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c->failure(r, mail_error::login_failed));
    c->load_capabilities();
    return imap_session(std::move(c));
}

bool imap_session::alive() const noexcept {
    return connection_ && connection_->alive;
}

bool imap_session::has_capability(std::string_view cap) const {
    return connection_ && connection_->capabilities.count(upper(cap)) > 0;
}

core::result<std::vector<folder_info>, mail_error> imap_session::folders() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    clist* raw = nullptr;
    c.start();
    int r = mailimap_list(c.imap.get(), "", "*", &raw);
    const list_result_ptr list(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    std::vector<folder_info> out;
    std::vector<std::string> encoded_names;
    for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
        const auto* mb = static_cast<const mailimap_mailbox_list*>(clist_content(it));
        out.push_back(c.describe(mb));
        encoded_names.emplace_back(mb->mb_name ? mb->mb_name : "");
    }
    clist* raw_lsub = nullptr;
    c.start();
    r = mailimap_lsub(c.imap.get(), "", "*", &raw_lsub);
    const list_result_ptr lsub(raw_lsub);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    std::set<std::string> subscribed;
    for (clistiter* it = clist_begin(raw_lsub); it != nullptr; it = clist_next(it)) {
        const auto* mb = static_cast<const mailimap_mailbox_list*>(clist_content(it));
        if (mb->mb_name) subscribed.insert(mb->mb_name);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& f = out[i];
        f.subscribed = subscribed.count(encoded_names[i]) > 0 || f.use == special_use::inbox;
        if (!f.selectable) continue;
        status_list_ptr attributes(mailimap_status_att_list_new_empty());
        mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_MESSAGES);
        mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_UNSEEN);
        mailimap_mailbox_data_status* status_raw = nullptr;
        c.start();
        r = mailimap_status(c.imap.get(), encoded_names[i].c_str(), attributes.get(), &status_raw);
        const status_ptr status(status_raw);
        if (r != MAILIMAP_NO_ERROR) {
            if (!c.alive) return core::fail(c.failure(r));
            c.failure(r);
            continue;  // a folder that vanished meanwhile keeps zero counts
        }
        for (clistiter* it = clist_begin(status->st_info_list); it != nullptr;
             it = clist_next(it)) {
            const auto* info = static_cast<const mailimap_status_info*>(clist_content(it));
            if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES) f.total = info->st_value;
            if (info->st_att == MAILIMAP_STATUS_ATT_UNSEEN) f.unseen = info->st_value;
        }
    }
    return out;
}

core::status<mail_error> imap_session::create_folder(std::string_view path) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto encoded = c.encode_path(path);
    if (!encoded) return core::fail(encoded.error());
    const auto existing = c.find(*encoded);
    if (!existing) return core::fail(existing.error());
    if (existing->has_value()) return core::fail(mail_error::folder_exists);
    c.start();
    const int r = mailimap_create(c.imap.get(), encoded->c_str());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    c.start();
    const int s = mailimap_subscribe(c.imap.get(), encoded->c_str());
    if (s != MAILIMAP_NO_ERROR && !c.alive) return core::fail(c.failure(s));
    return core::ok;
}

core::status<mail_error> imap_session::rename_folder(std::string_view from, std::string_view to) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto source = c.encode_path(from);
    const auto target = c.encode_path(to);
    if (!source || !target) return core::fail(mail_error::bad_request);
    const auto existing = c.find(*source);
    if (!existing) return core::fail(existing.error());
    if (!existing->has_value()) return core::fail(mail_error::folder_not_found);
    if ((*existing)->use != special_use::none) return core::fail(mail_error::folder_protected);
    const auto clash = c.find(*target);
    if (!clash) return core::fail(clash.error());
    if (clash->has_value()) return core::fail(mail_error::folder_exists);
    c.start();
    const int r = mailimap_rename(c.imap.get(), source->c_str(), target->c_str());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    if (c.selected && *c.selected == from) c.selected.reset();
    // Subscriptions follow the name (Dovecot keeps the old one otherwise).
    c.start();
    mailimap_unsubscribe(c.imap.get(), source->c_str());
    c.start();
    mailimap_subscribe(c.imap.get(), target->c_str());
    return core::ok;
}

core::status<mail_error> imap_session::delete_folder(std::string_view path) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto encoded = c.encode_path(path);
    if (!encoded) return core::fail(encoded.error());
    const auto existing = c.find(*encoded);
    if (!existing) return core::fail(existing.error());
    if (!existing->has_value()) return core::fail(mail_error::folder_not_found);
    if ((*existing)->use != special_use::none) return core::fail(mail_error::folder_protected);
    if (c.selected && *c.selected == path) {
        // A selected folder cannot always be deleted; leave it first.
        c.start();
        mailimap_close(c.imap.get());
        c.selected.reset();
    }
    c.start();
    const int r = mailimap_delete(c.imap.get(), encoded->c_str());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    c.start();
    mailimap_unsubscribe(c.imap.get(), encoded->c_str());
    return core::ok;
}

core::status<mail_error> imap_session::subscribe(std::string_view path, bool on) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto encoded = c.encode_path(path);
    if (!encoded) return core::fail(encoded.error());
    c.start();
    const int r = on ? mailimap_subscribe(c.imap.get(), encoded->c_str())
                     : mailimap_unsubscribe(c.imap.get(), encoded->c_str());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
    return core::ok;
}

core::result<select_info, mail_error> imap_session::select(std::string_view path) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (!c.selected || *c.selected != path) {
        const auto encoded = upper(path) == "INBOX"
                                 ? core::result<std::string, mail_error>(std::string("INBOX"))
                                 : c.encode_path(path);
        if (!encoded) return core::fail(encoded.error());
        c.selected.reset();
        c.start();
        const int r = mailimap_select(c.imap.get(), encoded->c_str());
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
        c.selected = std::string(path);
    }
    // libetpan keeps these current from the untagged EXISTS/UIDNEXT responses.
    const auto* info = c.imap->imap_selection_info;
    if (info == nullptr) return core::fail(mail_error::protocol);
    return select_info{info->sel_uidvalidity, info->sel_exists, info->sel_uidnext};
}

core::result<std::vector<std::uint32_t>, mail_error> imap_session::sorted_uids(
    sort_key key, bool descending, const search_query& query) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    auto search = build_search(query);
    if (!search) return core::fail(search.error());
    const char* charset = is_ascii(query) ? nullptr : "UTF-8";
    std::vector<std::uint32_t> out;
    if (has_capability("SORT")) {
        const int reverse = descending ? 1 : 0;
        sort_key_ptr sort;
        switch (key) {
            case sort_key::date:
                sort.reset(mailimap_sort_key_new_date(reverse));
                break;
            case sort_key::arrival:
                sort.reset(mailimap_sort_key_new_arrival(reverse));
                break;
            case sort_key::from:
                sort.reset(mailimap_sort_key_new_from(reverse));
                break;
            case sort_key::subject:
                sort.reset(mailimap_sort_key_new_subject(reverse));
                break;
            case sort_key::size:
                sort.reset(mailimap_sort_key_new_size(reverse));
                break;
        }
        clist* raw = nullptr;
        c.start();
        const int r = mailimap_uid_sort(c.imap.get(), charset ? charset : "UTF-8", sort.get(),
                                        search->get(), &raw);
        const uid_list_ptr result(raw);
        // libetpan reports an empty "* SORT" line as a missing extension response; the search
        // below then tells an empty result from a refused command.
        if (r != MAILIMAP_ERROR_EXTENSION) {
            if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
            for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
                out.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
            }
            return out;
        }
    }
    // No SORT: search, then order by the fetched keys.
    clist* raw = nullptr;
    c.start();
    const int r = mailimap_uid_search(c.imap.get(), charset, search->get(), &raw);
    const uid_list_ptr result(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
        out.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
    }
    std::sort(out.begin(), out.end());
    if (key != sort_key::arrival && !out.empty()) {
        auto all = summaries(out);
        if (!all) return core::fail(all.error());
        const auto first_address = [](const message_summary& m) {
            return m.from.empty() ? std::string() : lower(m.from.front().address);
        };
        std::stable_sort(all->begin(), all->end(),
                         [&](const message_summary& a, const message_summary& b) {
                             switch (key) {
                                 case sort_key::date:
                                     return a.date_unix < b.date_unix;
                                 case sort_key::from:
                                     return first_address(a) < first_address(b);
                                 case sort_key::subject:
                                     return lower(a.subject) < lower(b.subject);
                                 case sort_key::size:
                                     return a.size < b.size;
                                 case sort_key::arrival:
                                     break;
                             }
                             return a.uid < b.uid;
                         });
        out.clear();
        for (const auto& m : *all) out.push_back(m.uid);
    }
    if (descending) std::reverse(out.begin(), out.end());
    return out;
}

core::result<std::vector<message_summary>, mail_error> imap_session::summaries(
    std::span<const std::uint32_t> uids) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    std::map<std::uint32_t, message_summary> found;
    constexpr std::size_t batch = 500;
    for (std::size_t start = 0; start < uids.size(); start += batch) {
        const auto part = uids.subspan(start, std::min(batch, uids.size() - start));
        const set_ptr set = uid_set(part);
        fetch_type_ptr fetch(mailimap_fetch_type_new_fetch_att_list_empty());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(), mailimap_fetch_att_new_uid());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(), mailimap_fetch_att_new_flags());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(),
                                                   mailimap_fetch_att_new_rfc822_size());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(),
                                                   mailimap_fetch_att_new_internaldate());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(), mailimap_fetch_att_new_envelope());
        mailimap_fetch_type_new_fetch_att_list_add(fetch.get(),
                                                   mailimap_fetch_att_new_bodystructure());
        clist* names = clist_new();
        clist_append(names, dup("References"));
        mailimap_fetch_type_new_fetch_att_list_add(
            fetch.get(), mailimap_fetch_att_new_body_peek_section(
                             mailimap_section_new_header_fields(mailimap_header_list_new(names))));
        clist* raw = nullptr;
        c.start();
        const int r = mailimap_uid_fetch(c.imap.get(), set.get(), fetch.get(), &raw);
        const fetch_result_ptr result(raw);
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::message_not_found));
        for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
            const auto* att = static_cast<const mailimap_msg_att*>(clist_content(it));
            message_summary m;
            std::optional<std::int64_t> internal_date;
            for (clistiter* a = clist_begin(att->att_list); a != nullptr; a = clist_next(a)) {
                const auto* item = static_cast<const mailimap_msg_att_item*>(clist_content(a));
                if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
                    const auto* dyn = item->att_data.att_dyn;
                    if (dyn == nullptr || dyn->att_list == nullptr) continue;
                    for (clistiter* f = clist_begin(dyn->att_list); f != nullptr;
                         f = clist_next(f)) {
                        const auto* ff = static_cast<const mailimap_flag_fetch*>(clist_content(f));
                        if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER && ff->fl_flag) {
                            auto name = flag_name(ff->fl_flag);
                            if (!name.empty()) m.flags.push_back(std::move(name));
                        }
                    }
                    continue;
                }
                if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
                const auto* st = item->att_data.att_static;
                switch (st->att_type) {
                    case MAILIMAP_MSG_ATT_UID:
                        m.uid = st->att_data.att_uid;
                        break;
                    case MAILIMAP_MSG_ATT_RFC822_SIZE:
                        m.size = st->att_data.att_rfc822_size;
                        break;
                    case MAILIMAP_MSG_ATT_INTERNALDATE:
                        if (const auto* d = st->att_data.att_internal_date) {
                            internal_date = to_unix(d->dt_year, d->dt_month, d->dt_day, d->dt_hour,
                                                    d->dt_min, d->dt_sec, d->dt_zone);
                        }
                        break;
                    case MAILIMAP_MSG_ATT_ENVELOPE:
                        if (const auto* env = st->att_data.att_env) {
                            if (env->env_subject) m.subject = decode_words(env->env_subject);
                            if (env->env_from) add_addresses(m.from, env->env_from->frm_list);
                            if (env->env_to) add_addresses(m.to, env->env_to->to_list);
                            if (env->env_cc) add_addresses(m.cc, env->env_cc->cc_list);
                            if (env->env_reply_to) {
                                add_addresses(m.reply_to, env->env_reply_to->rt_list);
                            }
                            if (env->env_message_id) m.message_id = env->env_message_id;
                            if (env->env_in_reply_to) {
                                const auto ids = message_ids(env->env_in_reply_to);
                                if (!ids.empty()) m.in_reply_to = ids.front();
                            }
                            if (const auto date = parse_date_header(env->env_date)) {
                                m.date_unix = *date;
                                m.date_iso = "set";
                            }
                        }
                        break;
                    case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
                        m.content_type = content_type_of(st->att_data.att_bodystructure);
                        m.has_attachment = has_attachment(st->att_data.att_bodystructure);
                        break;
                    case MAILIMAP_MSG_ATT_BODY_SECTION:
                        if (const auto* section = st->att_data.att_body_section;
                            section && section->sec_body_part) {
                            m.references = message_ids(header_value(
                                std::string_view(section->sec_body_part, section->sec_length),
                                "references"));
                        }
                        break;
                    default:
                        break;
                }
            }
            if (m.uid == 0) continue;
            if (m.date_iso.empty() && internal_date) m.date_unix = *internal_date;
            m.date_iso = iso_utc(m.date_unix);
            found[m.uid] = std::move(m);
        }
    }
    std::vector<message_summary> out;
    out.reserve(uids.size());
    for (const auto uid : uids) {
        const auto it = found.find(uid);
        if (it != found.end()) out.push_back(std::move(it->second));
    }
    return out;
}

core::result<std::string, mail_error> imap_session::raw_message(std::uint32_t uid,
                                                                std::size_t max_bytes) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    const std::uint32_t one[] = {uid};
    const set_ptr set = uid_set(one);
    // The size first, so an oversized message is refused before it is read into memory.
    {
        fetch_type_ptr fetch(
            mailimap_fetch_type_new_fetch_att(mailimap_fetch_att_new_rfc822_size()));
        clist* raw = nullptr;
        c.start();
        const int r = mailimap_uid_fetch(c.imap.get(), set.get(), fetch.get(), &raw);
        const fetch_result_ptr result(raw);
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::message_not_found));
        std::optional<std::uint32_t> size;
        for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
            const auto* att = static_cast<const mailimap_msg_att*>(clist_content(it));
            for (clistiter* a = clist_begin(att->att_list); a != nullptr; a = clist_next(a)) {
                const auto* item = static_cast<const mailimap_msg_att_item*>(clist_content(a));
                if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                    item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
                    size = item->att_data.att_static->att_data.att_rfc822_size;
                }
            }
        }
        if (!size) return core::fail(mail_error::message_not_found);
        if (*size > max_bytes) return core::fail(mail_error::too_large);
    }
    fetch_type_ptr fetch(mailimap_fetch_type_new_fetch_att(
        mailimap_fetch_att_new_body_peek_section(mailimap_section_new(nullptr))));
    clist* raw = nullptr;
    c.start();
    const int r = mailimap_uid_fetch(c.imap.get(), set.get(), fetch.get(), &raw);
    const fetch_result_ptr result(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::message_not_found));
    for (clistiter* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
        const auto* att = static_cast<const mailimap_msg_att*>(clist_content(it));
        for (clistiter* a = clist_begin(att->att_list); a != nullptr; a = clist_next(a)) {
            const auto* item = static_cast<const mailimap_msg_att_item*>(clist_content(a));
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
            const auto* st = item->att_data.att_static;
            if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && st->att_data.att_body_section &&
                st->att_data.att_body_section->sec_body_part) {
                const auto* section = st->att_data.att_body_section;
                if (section->sec_length > max_bytes) return core::fail(mail_error::too_large);
                return std::string(section->sec_body_part, section->sec_length);
            }
        }
    }
    return core::fail(mail_error::message_not_found);
}

core::status<mail_error> imap_session::store_flags(std::span<const std::uint32_t> uids,
                                                   std::span<const std::string> add,
                                                   std::span<const std::string> remove) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    auto add_list = make_flag_list(add);
    auto remove_list = make_flag_list(remove);
    if (!add_list || !remove_list) return core::fail(mail_error::bad_request);
    if (uids.empty()) return core::ok;
    const set_ptr set = uid_set(uids);
    if (!add.empty()) {
        auto* att = mailimap_store_att_flags_new_add_flags_silent(add_list->release());
        c.start();
        const int r = mailimap_uid_store(c.imap.get(), set.get(), att);
        mailimap_store_att_flags_free(att);
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    }
    if (!remove.empty()) {
        auto* att = mailimap_store_att_flags_new_remove_flags_silent(remove_list->release());
        c.start();
        const int r = mailimap_uid_store(c.imap.get(), set.get(), att);
        mailimap_store_att_flags_free(att);
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    }
    return core::ok;
}

core::status<mail_error> imap_session::move(std::span<const std::uint32_t> uids,
                                            std::string_view to, bool copy) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    const auto target = upper(to) == "INBOX"
                            ? core::result<std::string, mail_error>(std::string("INBOX"))
                            : c.encode_path(to);
    if (!target) return core::fail(target.error());
    if (uids.empty()) return core::ok;
    const set_ptr set = uid_set(uids);
    if (copy || !has_capability("MOVE")) {
        c.start();
        const int r = mailimap_uid_copy(c.imap.get(), set.get(), target->c_str());
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
        if (copy) return core::ok;
        const std::string deleted[] = {"\\Deleted"};
        if (auto s = store_flags(uids, deleted, {}); !s) return s;
        return expunge(uids);
    }
    c.start();
    const int r = mailimap_uid_move(c.imap.get(), set.get(), target->c_str());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
    return core::ok;
}

core::status<mail_error> imap_session::expunge(std::span<const std::uint32_t> uids) {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!connection_->selected) return core::fail(mail_error::folder_not_found);
    auto& c = *connection_;
    if (uids.empty()) return core::ok;
    c.start();
    int r = MAILIMAP_NO_ERROR;
    if (has_capability("UIDPLUS")) {
        const set_ptr set = uid_set(uids);
        r = mailimap_uid_expunge(c.imap.get(), set.get());
    } else {
        r = mailimap_expunge(c.imap.get());  // without UIDPLUS every \Deleted message goes
    }
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    return core::ok;
}

core::result<std::optional<std::uint32_t>, mail_error> imap_session::append(
    std::string_view folder, std::string_view raw, std::span<const std::string> flags) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto target = upper(folder) == "INBOX"
                            ? core::result<std::string, mail_error>(std::string("INBOX"))
                            : c.encode_path(folder);
    if (!target) return core::fail(target.error());
    auto flag_list = make_flag_list(flags);
    if (!flag_list) return core::fail(flag_list.error());
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    c.start();
    const int r = mailimap_uidplus_append(c.imap.get(), target->c_str(), flag_list->get(), nullptr,
                                          raw.data(), raw.size(), &uidvalidity, &uid);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
    if (uid == 0) return std::optional<std::uint32_t>{};
    return std::optional<std::uint32_t>{uid};
}

core::result<std::uint32_t, mail_error> imap_session::unseen_count(std::string_view folder) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto target = upper(folder) == "INBOX"
                            ? core::result<std::string, mail_error>(std::string("INBOX"))
                            : c.encode_path(folder);
    if (!target) return core::fail(target.error());
    status_list_ptr attributes(mailimap_status_att_list_new_empty());
    mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_UNSEEN);
    mailimap_mailbox_data_status* status_raw = nullptr;
    c.start();
    const int r = mailimap_status(c.imap.get(), target->c_str(), attributes.get(), &status_raw);
    const status_ptr status(status_raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
    for (clistiter* it = clist_begin(status->st_info_list); it != nullptr; it = clist_next(it)) {
        const auto* info = static_cast<const mailimap_status_info*>(clist_content(it));
        if (info->st_att == MAILIMAP_STATUS_ATT_UNSEEN) return info->st_value;
    }
    return core::fail(mail_error::protocol);
}

core::result<std::optional<quota_usage>, mail_error> imap_session::quota() {
    if (!alive()) return core::fail(mail_error::unavailable);
    if (!has_capability("QUOTA")) return std::optional<quota_usage>{};
    auto& c = *connection_;
    mailimap_quota_complete_data* raw = nullptr;
    c.start();
    const int r = mailimap_quota_getquotaroot(c.imap.get(), "INBOX", &raw);
    const std::unique_ptr<
        mailimap_quota_complete_data,
        c_deleter<mailimap_quota_complete_data, mailimap_quota_complete_data_free>>
        data(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    if (!data || data->quota_list == nullptr) return std::optional<quota_usage>{};
    for (clistiter* it = clist_begin(data->quota_list); it != nullptr; it = clist_next(it)) {
        const auto* root = static_cast<const mailimap_quota_quota_data*>(clist_content(it));
        if (root == nullptr || root->quota_list == nullptr) continue;
        for (clistiter* at = clist_begin(root->quota_list); at != nullptr; at = clist_next(at)) {
            const auto* resource =
                static_cast<const mailimap_quota_quota_resource*>(clist_content(at));
            if (resource == nullptr || resource->resource_name == nullptr ||
                upper(resource->resource_name) != "STORAGE") {
                continue;
            }
            return std::optional<quota_usage>{quota_usage{std::uint64_t{resource->usage} * 1024,
                                                          std::uint64_t{resource->limit} * 1024}};
        }
    }
    return std::optional<quota_usage>{};
}

core::status<mail_error> imap_session::idle_start() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (c.idling) return core::ok;
    if (!has_capability("IDLE")) return core::fail(mail_error::protocol);
    if (!c.selected) {  // IDLE reports on the selected folder; the inbox by default
        if (auto s = select("INBOX"); !s) return core::fail(s.error());
    }
    c.idle_buffer.clear();
    c.start();
    const int r = mailimap_idle(c.imap.get());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    c.idling = true;
    return core::ok;
}

int imap_session::idle_fd() const noexcept {
    if (!connection_ || !connection_->imap || !connection_->alive) return -1;
    return mailimap_idle_get_fd(connection_->imap.get());
}

idle_event imap_session::idle_poll() {
    if (!alive() || !connection_->idling) return idle_event::closed;
    auto& c = *connection_;
    mailstream* stream = c.imap->imap_stream;
    // What libetpan read ahead while waiting for "+" is consumed first; then the socket, without
    // blocking when nothing is there.
    if (stream->read_buffer_len > 0) {
        c.idle_buffer.append(stream->read_buffer, stream->read_buffer_len);
        stream->read_buffer_len = 0;
    }
    pollfd p{idle_fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
        char chunk[4096];
        const ssize_t n = mailstream_low_read(mailstream_get_low(stream), chunk, sizeof chunk);
        if (n <= 0) {
            c.alive = false;
            c.idling = false;
            c.selected.reset();
            return idle_event::closed;
        }
        c.idle_buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (c.idle_buffer.size() > 1024 * 1024) {  // a server that floods is dropped
        c.alive = false;
        c.idling = false;
        return idle_event::closed;
    }
    idle_event event = idle_event::none;
    std::size_t consumed = 0;
    for (;;) {
        const auto eol = c.idle_buffer.find("\r\n", consumed);
        if (eol == std::string::npos) break;
        const std::string line =
            upper(std::string_view(c.idle_buffer).substr(consumed, eol - consumed));
        consumed = eol + 2;
        if (line.rfind("* BYE", 0) == 0) {
            c.alive = false;
            c.idling = false;
            c.selected.reset();
            return idle_event::closed;
        }
        for (const char* word : {" EXISTS", " EXPUNGE", " RECENT", " FETCH "}) {
            if (line.rfind("* ", 0) == 0 && line.find(word) != std::string::npos) {
                event = idle_event::changed;
            }
        }
    }
    c.idle_buffer.erase(0, consumed);  // a partial line waits for the rest
    return event;
}

core::status<mail_error> imap_session::idle_done() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (!c.idling) return core::ok;
    c.idling = false;
    // A partial untagged line read by idle_poll goes back to libetpan's buffer so that its
    // parser sees whole responses.
    mailstream* stream = c.imap->imap_stream;
    if (!c.idle_buffer.empty()) {
        if (c.idle_buffer.size() + stream->read_buffer_len > stream->buffer_max_size) {
            c.alive = false;
            return core::fail(mail_error::protocol);
        }
        std::memmove(stream->read_buffer + c.idle_buffer.size(), stream->read_buffer,
                     stream->read_buffer_len);
        std::memcpy(stream->read_buffer, c.idle_buffer.data(), c.idle_buffer.size());
        stream->read_buffer_len += c.idle_buffer.size();
        c.idle_buffer.clear();
    }
    c.start();
    const int r = mailimap_idle_done(c.imap.get());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    return core::ok;
}

}  // namespace secms::mail

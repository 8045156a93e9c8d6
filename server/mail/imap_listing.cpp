// IMAP client: select, the message summaries (ENVELOPE, BODYSTRUCTURE, References) and the
// raw message.
#include "server/mail/imap_internal.hpp"

#include <cstring>
#include <ctime>
#include <map>

#include "server/mail/message_headers.hpp"

namespace secms::mail {

using namespace imap_detail;

namespace {

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

// UID FETCH of the items asked for the set: the responses, or the mapped failure.
core::result<fetch_result_ptr, mail_error> uid_fetch(imap_connection& c, mailimap_set* set,
                                                     mailimap_fetch_type* fetch) {
    clist* raw = nullptr;
    c.start();
    const int r = mailimap_uid_fetch(c.imap.get(), set, fetch, &raw);
    fetch_result_ptr result(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::message_not_found));
    return result;
}

// Calls visit(static item) for the static items of every message in a FETCH response.
template <class Visit>
void for_each_static_item(const fetch_result_ptr& responses, Visit visit) {
    for (clistiter* it = clist_begin(responses.get()); it != nullptr; it = clist_next(it)) {
        const auto* att = static_cast<const mailimap_msg_att*>(clist_content(it));
        for (clistiter* a = clist_begin(att->att_list); a != nullptr; a = clist_next(a)) {
            const auto* item = static_cast<const mailimap_msg_att_item*>(clist_content(a));
            if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC) visit(*item->att_data.att_static);
        }
    }
}

}  // namespace

core::result<select_info, mail_error> imap_session::select(std::string_view path) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (!c.selected || *c.selected != path) {
        const auto encoded = c.encode_mailbox(path);
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

core::result<select_info, mail_error> imap_session::refresh_selected() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (!c.selected) return core::fail(mail_error::protocol);
    // NOOP first: it brings this session's view of the folder up to date (until then a FETCH
    // still answers for a message another client expunged). Then STATUS: NOOP reports EXISTS
    // and EXPUNGE but never UIDNEXT, so one expunge plus one arrival would look like no change.
    const auto encoded = c.encode_mailbox(*c.selected);
    if (!encoded) return core::fail(encoded.error());
    c.start();
    if (const int r = mailimap_noop(c.imap.get()); r != MAILIMAP_NO_ERROR)
        return core::fail(c.failure(r, mail_error::protocol));
    status_list_ptr attributes(mailimap_status_att_list_new_empty());
    mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_MESSAGES);
    mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_UIDNEXT);
    mailimap_status_att_list_add(attributes.get(), MAILIMAP_STATUS_ATT_UIDVALIDITY);
    mailimap_mailbox_data_status* status_raw = nullptr;
    c.start();
    const int r = mailimap_status(c.imap.get(), encoded->c_str(), attributes.get(), &status_raw);
    const status_ptr status(status_raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::folder_not_found));
    select_info out;
    int seen = 0;
    for (clistiter* it = clist_begin(status->st_info_list); it != nullptr; it = clist_next(it)) {
        const auto* info = static_cast<const mailimap_status_info*>(clist_content(it));
        switch (info->st_att) {
            case MAILIMAP_STATUS_ATT_MESSAGES:
                out.exists = info->st_value;
                ++seen;
                break;
            case MAILIMAP_STATUS_ATT_UIDNEXT:
                out.uidnext = info->st_value;
                ++seen;
                break;
            case MAILIMAP_STATUS_ATT_UIDVALIDITY:
                out.uidvalidity = info->st_value;
                ++seen;
                break;
            default:
                break;
        }
    }
    if (seen != 3) return core::fail(mail_error::protocol);
    return out;
}

core::result<std::vector<message_summary>, mail_error> imap_session::summaries(
    std::span<const std::uint32_t> uids) {
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
    auto& c = *connection_;
    std::map<std::uint32_t, message_summary> found;
    constexpr std::size_t batch = 500;
    for (std::size_t start = 0; start < uids.size(); start += batch) {
        const auto part = uids.subspan(start, std::min(batch, uids.size() - start));
        const set_ptr set = uid_set(part);
        clist* names = clist_new();
        clist_append(names, dup("References"));
        fetch_type_ptr fetch(mailimap_fetch_type_new_fetch_att_list_empty());
        for (mailimap_fetch_att* att :
             {mailimap_fetch_att_new_uid(), mailimap_fetch_att_new_flags(),
              mailimap_fetch_att_new_rfc822_size(), mailimap_fetch_att_new_internaldate(),
              mailimap_fetch_att_new_envelope(), mailimap_fetch_att_new_bodystructure(),
              mailimap_fetch_att_new_body_peek_section(
                  mailimap_section_new_header_fields(mailimap_header_list_new(names)))}) {
            mailimap_fetch_type_new_fetch_att_list_add(fetch.get(), att);
        }
        const auto result = uid_fetch(c, set.get(), fetch.get());
        if (!result) return core::fail(result.error());
        for (clistiter* it = clist_begin(result->get()); it != nullptr; it = clist_next(it)) {
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
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
    auto& c = *connection_;
    const std::uint32_t one[] = {uid};
    const set_ptr set = uid_set(one);
    // The size first, so an oversized message is refused before it is read into memory.
    {
        fetch_type_ptr fetch(
            mailimap_fetch_type_new_fetch_att(mailimap_fetch_att_new_rfc822_size()));
        const auto result = uid_fetch(c, set.get(), fetch.get());
        if (!result) return core::fail(result.error());
        std::optional<std::uint32_t> size;
        for_each_static_item(*result, [&](const mailimap_msg_att_static& st) {
            if (st.att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) size = st.att_data.att_rfc822_size;
        });
        if (!size) return core::fail(mail_error::message_not_found);
        if (*size > max_bytes) return core::fail(mail_error::too_large);
    }
    fetch_type_ptr fetch(mailimap_fetch_type_new_fetch_att(
        mailimap_fetch_att_new_body_peek_section(mailimap_section_new(nullptr))));
    const auto result = uid_fetch(c, set.get(), fetch.get());
    if (!result) return core::fail(result.error());
    const mailimap_msg_att_body_section* body = nullptr;  // the first one
    for_each_static_item(*result, [&](const mailimap_msg_att_static& st) {
        if (body == nullptr && st.att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
            st.att_data.att_body_section && st.att_data.att_body_section->sec_body_part) {
            body = st.att_data.att_body_section;
        }
    });
    if (body == nullptr) return core::fail(mail_error::message_not_found);
    if (body->sec_length > max_bytes) return core::fail(mail_error::too_large);
    return std::string(body->sec_body_part, body->sec_length);
}

}  // namespace secms::mail

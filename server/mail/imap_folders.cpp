// IMAP client: the folder tree (LIST, LSUB, STATUS), create, rename, delete, subscribe, the
// unseen count and the quota.
#include "server/mail/imap_internal.hpp"

#include <set>

namespace secms::mail {

using namespace imap_detail;

namespace {

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

// The folder at an encoded path exists and is no special-use folder (those stay).
core::status<mail_error> check_user_folder(imap_connection& c, const std::string& encoded) {
    const auto existing = c.find(encoded);
    if (!existing) return core::fail(existing.error());
    if (!existing->has_value()) return core::fail(mail_error::folder_not_found);
    if ((*existing)->use != special_use::none) return core::fail(mail_error::folder_protected);
    return core::ok;
}

// No folder has the encoded path yet.
core::status<mail_error> check_free_path(imap_connection& c, const std::string& encoded) {
    const auto existing = c.find(encoded);
    if (!existing) return core::fail(existing.error());
    if (existing->has_value()) return core::fail(mail_error::folder_exists);
    return core::ok;
}

}  // namespace

core::result<std::optional<folder_info>, mail_error> imap_connection::find(
    const std::string& encoded) {
    clist* raw = nullptr;
    start();
    const int r = mailimap_list(imap.get(), "", encoded.c_str(), &raw);
    const list_result_ptr list(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(failure(r));
    if (!list || clist_isempty(list.get())) return std::optional<folder_info>{};
    return std::optional<folder_info>{
        describe(static_cast<const mailimap_mailbox_list*>(clist_content(clist_begin(raw))))};
}

folder_info imap_connection::describe(const mailimap_mailbox_list* mb) {
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
    if (auto s = check_free_path(c, *encoded); !s) return s;
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
    if (auto s = check_user_folder(c, *source); !s) return s;
    if (auto s = check_free_path(c, *target); !s) return s;
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
    if (auto s = check_user_folder(c, *encoded); !s) return s;
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

core::result<std::uint32_t, mail_error> imap_session::unseen_count(std::string_view folder) {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    const auto target = c.encode_mailbox(folder);
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

}  // namespace secms::mail

// IMAP client: flags (UID STORE), move and copy, expunge, append.
#include "server/mail/imap_internal.hpp"

namespace secms::mail {

using namespace imap_detail;

namespace {

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

core::result<flag_list_ptr, mail_error> make_flag_list(std::span<const std::string> names) {
    flag_list_ptr list(mailimap_flag_list_new_empty());
    for (const auto& name : names) {
        mailimap_flag* flag = make_flag(name);
        if (flag == nullptr) return core::fail(mail_error::bad_request);
        mailimap_flag_list_add(list.get(), flag);
    }
    return list;
}

}  // namespace

core::status<mail_error> imap_session::store_flags(std::span<const std::uint32_t> uids,
                                                   std::span<const std::string> add,
                                                   std::span<const std::string> remove) {
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
    auto& c = *connection_;
    auto add_list = make_flag_list(add);
    auto remove_list = make_flag_list(remove);
    if (!add_list || !remove_list) return core::fail(mail_error::bad_request);
    if (uids.empty()) return core::ok;
    const set_ptr set = uid_set(uids);
    const auto store = [&](mailimap_store_att_flags* att) -> core::status<mail_error> {
        c.start();
        const int r = mailimap_uid_store(c.imap.get(), set.get(), att);
        mailimap_store_att_flags_free(att);
        if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
        return core::ok;
    };
    if (!add.empty()) {
        auto s = store(mailimap_store_att_flags_new_add_flags_silent(add_list->release()));
        if (!s) return s;
    }
    if (!remove.empty()) {
        return store(mailimap_store_att_flags_new_remove_flags_silent(remove_list->release()));
    }
    return core::ok;
}

core::status<mail_error> imap_session::move(std::span<const std::uint32_t> uids,
                                            std::string_view to, bool copy) {
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
    auto& c = *connection_;
    const auto target = c.encode_mailbox(to);
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
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
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
    const auto target = c.encode_mailbox(folder);
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

}  // namespace secms::mail

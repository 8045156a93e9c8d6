// IMAP client: search criteria and the sorted UID list (UID SORT, or UID SEARCH and a local
// sort by the fetched keys).
#include "server/mail/imap_internal.hpp"

#include <algorithm>
#include <cctype>

namespace secms::mail {

using namespace imap_detail;

namespace {

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

void append_uids(std::vector<std::uint32_t>& out, clist* uids) {
    for (clistiter* it = clist_begin(uids); it != nullptr; it = clist_next(it)) {
        out.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
    }
}

}  // namespace

core::result<std::vector<std::uint32_t>, mail_error> imap_session::sorted_uids(
    sort_key key, bool descending, const search_query& query) {
    if (const auto e = not_ready(connection_.get(), true)) return core::fail(*e);
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
            append_uids(out, raw);
            return out;
        }
    }
    // No SORT: search, then order by the fetched keys.
    clist* raw = nullptr;
    c.start();
    const int r = mailimap_uid_search(c.imap.get(), charset, search->get(), &raw);
    const uid_list_ptr result(raw);
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r, mail_error::bad_request));
    append_uids(out, raw);
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

}  // namespace secms::mail

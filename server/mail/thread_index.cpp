#include "server/mail/thread_index.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace secms::mail {
namespace {

class disjoint_sets {
  public:
    explicit disjoint_sets(std::size_t n) : parent_(n) {
        std::iota(parent_.begin(), parent_.end(), std::size_t{0});
    }
    std::size_t find(std::size_t x) {
        while (parent_[x] != x) {
            parent_[x] = parent_[parent_[x]];
            x = parent_[x];
        }
        return x;
    }
    void join(std::size_t a, std::size_t b) {
        a = find(a);
        b = find(b);
        if (a != b) parent_[std::max(a, b)] = std::min(a, b);
    }
    std::size_t add() {
        parent_.push_back(parent_.size());
        return parent_.size() - 1;
    }

  private:
    std::vector<std::size_t> parent_;
};

// Message-IDs compare without their angle brackets and surrounding space.
std::string_view bare_id(std::string_view id) {
    while (!id.empty() && (id.front() == ' ' || id.front() == '<')) id.remove_prefix(1);
    while (!id.empty() && (id.back() == ' ' || id.back() == '>')) id.remove_suffix(1);
    return id;
}

bool older(const thread_input& a, const thread_input& b) {
    return a.date_unix != b.date_unix ? a.date_unix < b.date_unix : a.uid < b.uid;
}

}  // namespace

std::vector<conversation> build_threads(std::span<const thread_input> messages) {
    const std::size_t n = messages.size();
    disjoint_sets sets(n);
    std::unordered_map<std::string_view, std::size_t> id_node;  // id → node (message or id)
    std::unordered_map<std::string_view, std::size_t> owner;    // id → first message having it
    auto node_of = [&](std::string_view id) {
        auto [it, fresh] = id_node.try_emplace(id, 0);
        if (fresh) it->second = sets.add();
        return it->second;
    };
    for (std::size_t i = 0; i < n; ++i) {
        auto own = bare_id(messages[i].message_id);
        if (!own.empty()) {
            owner.try_emplace(own, i);
            sets.join(i, node_of(own));
        }
        for (const auto& ref : messages[i].references) {
            auto id = bare_id(ref);
            if (!id.empty()) sets.join(i, node_of(id));
        }
        auto reply = bare_id(messages[i].in_reply_to);
        if (!reply.empty()) sets.join(i, node_of(reply));
    }

    // The parent: In-Reply-To, else the last reference, when that message is in the folder.
    std::vector<std::ptrdiff_t> parent(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view id = bare_id(messages[i].in_reply_to);
        if (id.empty() && !messages[i].references.empty())
            id = bare_id(messages[i].references.back());
        if (id.empty()) continue;
        auto it = owner.find(id);
        if (it != owner.end() && it->second != i)
            parent[i] = static_cast<std::ptrdiff_t>(it->second);
    }
    // Depth by walking up; a walk longer than the folder is a cycle and counts as a root.
    std::vector<std::uint32_t> depth(n, 0);
    std::vector<bool> known(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::size_t> path;
        std::size_t at = i;
        bool cycle = false;
        while (!known[at] && parent[at] >= 0) {
            path.push_back(at);
            if (path.size() > n) {
                cycle = true;
                break;
            }
            at = static_cast<std::size_t>(parent[at]);
        }
        std::uint32_t d = cycle ? 0 : (known[at] ? depth[at] : 0);
        if (!cycle && !known[at]) {
            known[at] = true;
            depth[at] = 0;
        }
        for (auto it = path.rbegin(); it != path.rend(); ++it) {
            if (!cycle) ++d;
            depth[*it] = cycle ? 0 : d;
            known[*it] = true;
        }
    }

    std::unordered_map<std::size_t, std::size_t> index_of_root;
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < n; ++i) {
        auto [it, fresh] = index_of_root.try_emplace(sets.find(i), groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    std::vector<conversation> out;
    out.reserve(groups.size());
    for (auto& group : groups) {
        std::sort(group.begin(), group.end(),
                  [&](std::size_t a, std::size_t b) { return older(messages[a], messages[b]); });
        conversation c;
        c.id = messages[group.front()].uid;
        c.newest = messages[group.back()].date_unix;
        std::uint32_t newest_uid = 0;
        for (auto i : group) {
            c.members.push_back({messages[i].uid, depth[i]});
            if (messages[i].date_unix == c.newest)
                newest_uid = std::max(newest_uid, messages[i].uid);
        }
        // A message whose parent is elsewhere in the thread is never shown above its root.
        c.members.front().depth = 0;
        out.push_back(std::move(c));
    }
    std::stable_sort(out.begin(), out.end(), [](const conversation& a, const conversation& b) {
        if (a.newest != b.newest) return a.newest > b.newest;
        return a.members.back().uid > b.members.back().uid;
    });
    return out;
}

}  // namespace secms::mail

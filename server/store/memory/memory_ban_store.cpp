// In-memory ban_store for unit tests of other modules: same rules as the SQLite store (one ban
// per user, listed soonest-ending first), nothing persisted.
#include <algorithm>
#include <map>
#include <mutex>

#include "server/store/ban_store.hpp"

namespace secms::store {

namespace {

class memory_ban_store final : public ban_store {
  public:
    core::status<store_error> put(const ban_record& ban) override {
        std::lock_guard lock(mutex_);
        bans_[ban.userid] = ban;
        return core::ok;
    }

    core::status<store_error> remove(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        if (bans_.erase(userid) == 0) return core::fail(store_error::not_found);
        return core::ok;
    }

    core::result<std::vector<ban_record>, store_error> active(std::int64_t now,
                                                              std::size_t limit) override {
        std::lock_guard lock(mutex_);
        std::vector<ban_record> out;
        for (const auto& [id, b] : bans_) {
            if (b.until > now) out.push_back(b);
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.until != b.until ? a.until < b.until : a.userid < b.userid;
        });
        if (out.size() > limit) out.resize(limit);
        return out;
    }

    core::result<std::size_t, store_error> remove_expired(std::int64_t now) override {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(
            std::erase_if(bans_, [now](const auto& entry) { return entry.second.until <= now; }));
    }

  private:
    std::mutex mutex_;
    std::map<std::int64_t, ban_record> bans_;
};

}  // namespace

std::unique_ptr<ban_store> make_memory_ban_store() {
    return std::make_unique<memory_ban_store>();
}

}  // namespace secms::store

// In-memory user_store for unit tests of other modules: same rules as the SQLite store
// (case-insensitive names, ids from 1 never reused), nothing persisted.
#include <algorithm>
#include <map>
#include <mutex>

#include "server/store/detail.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {

namespace {

class memory_store final : public user_store {
  public:
    core::result<user_record, store_error> create(const new_user& user) override {
        std::lock_guard lock(mutex_);
        std::string key = detail::username_key(user.username);
        if (ids_by_key_.contains(key)) return core::fail(store_error::username_taken);
        user_record record;
        record.userid = next_id_++;
        record.username = user.username;
        record.password_hash = user.password_hash;
        record.pepper_version = user.pepper_version;
        record.role = user.role;
        record.created_at = user.created_at;
        ids_by_key_.emplace(std::move(key), record.userid);
        users_.emplace(record.userid, record);
        ++version_;
        return record;
    }

    core::result<user_record, store_error> find_by_name(std::string_view username) override {
        std::lock_guard lock(mutex_);
        auto it = ids_by_key_.find(detail::username_key(username));
        if (it == ids_by_key_.end()) return core::fail(store_error::not_found);
        return users_.at(it->second);
    }

    core::result<user_record, store_error> find_by_id(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        auto it = users_.find(userid);
        if (it == users_.end()) return core::fail(store_error::not_found);
        return it->second;
    }

    core::status<store_error> set_password(std::int64_t userid, std::string_view hash,
                                           int pepper_version) override {
        return update(userid, [&](user_record& r) {
            r.password_hash = hash;
            r.pepper_version = pepper_version;
        });
    }

    core::status<store_error> set_role(std::int64_t userid, store::role r) override {
        return update(userid, [&](user_record& rec) {
            rec.role = r;
            ++users_version_;
        });
    }

    core::status<store_error> set_disabled(std::int64_t userid, bool disabled) override {
        return update(userid, [&](user_record& r) {
            r.disabled = disabled;
            ++users_version_;
        });
    }

    core::status<store_error> remove(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        auto it = users_.find(userid);
        if (it == users_.end()) return core::fail(store_error::not_found);
        ids_by_key_.erase(detail::username_key(it->second.username));
        users_.erase(it);
        ++version_;
        ++users_version_;
        return core::ok;
    }

    core::result<std::vector<user_record>, store_error> list() override {
        std::lock_guard lock(mutex_);
        std::vector<user_record> out;
        out.reserve(users_.size());
        for (const auto& [id, record] : users_) out.push_back(record);  // std::map: by userid
        return out;
    }

    core::result<user_page, store_error> list_page(std::int64_t offset,
                                                   std::int64_t limit) override {
        std::lock_guard lock(mutex_);
        user_page page;
        page.total = static_cast<std::int64_t>(users_.size());
        // ids_by_key_ is ordered by the case-folded name, which is unique: the SQLite order.
        std::int64_t index = 0;
        for (const auto& [key, id] : ids_by_key_) {
            if (static_cast<std::int64_t>(page.users.size()) >= std::max<std::int64_t>(0, limit))
                break;
            if (index++ < offset) continue;
            page.users.push_back(users_.at(id));
            page.users.back().password_hash.clear();  // as the SQLite store: lists carry none
        }
        return page;
    }

    core::result<std::int64_t, store_error> data_version() override {
        std::lock_guard lock(mutex_);
        return version_;
    }

    // As the SQLite store's triggers: role, disabled flag and deletion only.
    core::result<std::int64_t, store_error> users_version() override {
        std::lock_guard lock(mutex_);
        return users_version_;
    }

    core::result<std::size_t, store_error> count_enabled_admins() override {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(
            users_.begin(), users_.end(),
            [](const auto& e) { return e.second.role == role::admin && !e.second.disabled; }));
    }

  private:
    template <class F>
    core::status<store_error> update(std::int64_t userid, F&& change) {
        std::lock_guard lock(mutex_);
        auto it = users_.find(userid);
        if (it == users_.end()) return core::fail(store_error::not_found);
        change(it->second);
        ++version_;
        return core::ok;
    }

    std::mutex mutex_;
    std::int64_t next_id_ = 1;
    std::int64_t version_ = 0;
    std::int64_t users_version_ = 0;
    std::map<std::int64_t, user_record> users_;
    std::map<std::string, std::int64_t, std::less<>> ids_by_key_;
};

}  // namespace

std::unique_ptr<user_store> make_memory_store() {
    return std::make_unique<memory_store>();
}

}  // namespace secms::store

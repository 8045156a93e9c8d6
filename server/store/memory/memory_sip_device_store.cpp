// In-memory sip_device_store for unit tests of other modules: the SQLite store's rules (the
// per-user limit, removal only by the owner), nothing persisted.
#include <algorithm>
#include <mutex>
#include <vector>

#include "server/store/sip_device_store.hpp"

namespace secms::store {

namespace {

class memory_sip_device_store final : public sip_device_store {
  public:
    core::result<std::vector<sip_device_record>, store_error> list(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        std::vector<sip_device_record> out;
        for (const auto& d : devices_) {
            if (d.userid == userid) out.push_back(d);
        }
        return out;
    }

    core::result<std::size_t, store_error> count(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        return count_locked(userid);
    }

    core::result<sip_device_creation, store_error> create(const sip_device_record& device,
                                                          std::size_t max_per_user) override {
        std::lock_guard lock(mutex_);
        if (count_locked(device.userid) >= max_per_user) return sip_device_creation::limit_reached;
        const bool taken = std::any_of(devices_.begin(), devices_.end(), [&](const auto& d) {
            return d.device_id == device.device_id;
        });
        if (taken) return core::fail(store_error::unavailable);
        devices_.push_back(device);
        return sip_device_creation::created;
    }

    core::status<store_error> remove(std::int64_t userid, std::string_view device_id) override {
        std::lock_guard lock(mutex_);
        const auto removed = std::erase_if(devices_, [&](const auto& d) {
            return d.userid == userid && d.device_id == device_id;
        });
        if (removed == 0) return core::fail(store_error::not_found);
        return core::ok;
    }

  private:
    std::size_t count_locked(std::int64_t userid) const {
        return static_cast<std::size_t>(std::count_if(
            devices_.begin(), devices_.end(), [&](const auto& d) { return d.userid == userid; }));
    }

    std::mutex mutex_;
    std::vector<sip_device_record> devices_;  // in creation order
};

}  // namespace

std::unique_ptr<sip_device_store> make_memory_sip_device_store() {
    return std::make_unique<memory_sip_device_store>();
}

}  // namespace secms::store

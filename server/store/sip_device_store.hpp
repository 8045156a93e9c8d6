// SipDeviceStore: the SIP phones (desk phones, softphones) a user registered for the VoIP tab.
// A row says which device credential is still valid; it holds no secret (the password is derived
// from the SIP secret and the credential's username, never stored). The SIP edge reads the same
// table to refuse a revoked device at its next request (docs/api.md "SIP").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {

struct sip_device_record {
    std::string device_id;  // 16 lower-case hex characters
    std::int64_t userid = 0;
    std::string label;            // the user's name for the phone
    std::int64_t created_at = 0;  // Unix seconds
    std::int64_t expires_at = 0;  // Unix seconds: the device credential's expiry
};

enum class sip_device_creation {
    created,
    limit_reached,  // the user has max_per_user devices already; nothing was stored
};

class sip_device_store {
  public:
    virtual ~sip_device_store() = default;

    // The user's devices, oldest first.
    virtual core::result<std::vector<sip_device_record>, store_error> list(std::int64_t userid) = 0;
    virtual core::result<std::size_t, store_error> count(std::int64_t userid) = 0;
    // Stores the device unless the user has `max_per_user` already (checked and inserted in one
    // step, so two requests at once cannot pass the limit together). not_found when there is no
    // such user.
    virtual core::result<sip_device_creation, store_error> create(const sip_device_record& device,
                                                                  std::size_t max_per_user) = 0;
    // Deletes the device if it is this user's; not_found for an unknown id or another user's, so
    // the answer does not tell whether someone else's id exists.
    virtual core::status<store_error> remove(std::int64_t userid, std::string_view device_id) = 0;
};

// In-memory implementation for unit tests of other modules. It knows no users: create() accepts
// any userid.
std::unique_ptr<sip_device_store> make_memory_sip_device_store();

}  // namespace secms::store

// BanStore: the chat's moderation bans (DESIGN.md §2: "moderation state"). A ban says who may not
// join chat rooms until when, and who decided it; never a message, key or session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/core/result.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {

struct ban_record {
    std::int64_t userid = 0;
    std::int64_t until = 0;       // Unix seconds: the ban is over from then on
    std::int64_t by_userid = 0;   // the moderator who banned; 0 when unknown
    std::int64_t created_at = 0;  // Unix seconds
    // The names as they are when the ban is read back (active()); put() does not store them in
    // the SQLite store, which reads them from the users table.
    std::string username;
    std::string by_username;
};

class ban_store {
  public:
    virtual ~ban_store() = default;

    // Bans ban.userid until ban.until, replacing an earlier ban of that user. not_found when
    // there is no such user.
    virtual core::status<store_error> put(const ban_record& ban) = 0;
    // Lifts the user's ban; not_found when there was none.
    virtual core::status<store_error> remove(std::int64_t userid) = 0;
    // The bans still in force at `now` (until > now), soonest to end first, at most `limit`.
    virtual core::result<std::vector<ban_record>, store_error> active(std::int64_t now,
                                                                      std::size_t limit) = 0;
    // Deletes the bans over at `now` (until <= now); returns how many there were.
    virtual core::result<std::size_t, store_error> remove_expired(std::int64_t now) = 0;
};

// In-memory implementation for unit tests: keeps usernames as given to put().
std::unique_ptr<ban_store> make_memory_ban_store();

}  // namespace secms::store

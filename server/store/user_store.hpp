// UserStore: the registered users, and nothing else about them (no keys, sessions or messages).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/result.hpp"

namespace secms::store {

enum class role { user, moderator, admin };

std::string_view to_string(role r) noexcept;
std::optional<role> parse_role(std::string_view s) noexcept;

enum class store_error {
    not_found,       // no user with that id or name
    username_taken,  // the name is used already (case-insensitively)
    unavailable,     // the database could not be opened, read or written
    corrupt,         // a row or the schema is not what this version expects
    full,            // the disk holding the database is full: nothing new can be written
};

std::string_view message(store_error e) noexcept;

struct user_record {
    std::int64_t userid = 0;
    std::string username;       // as the user typed it; uniqueness ignores case
    std::string password_hash;  // "argon2id$…" PHC string of the peppered hash, never a password
    int pepper_version = 1;
    store::role role = role::user;
    std::int64_t created_at = 0;  // Unix seconds
    bool disabled = false;
};

// One page of the user list, and how many users there are in all.
struct user_page {
    std::vector<user_record> users;
    std::int64_t total = 0;
};

struct new_user {
    std::string username;
    std::string password_hash;
    int pepper_version = 1;
    store::role role = role::user;
    std::int64_t created_at = 0;
};

class user_store {
  public:
    virtual ~user_store() = default;

    virtual core::result<user_record, store_error> create(const new_user& user) = 0;
    virtual core::result<user_record, store_error> find_by_name(std::string_view username) = 0;
    virtual core::result<user_record, store_error> find_by_id(std::int64_t userid) = 0;
    virtual core::status<store_error> set_password(std::int64_t userid, std::string_view hash,
                                                   int pepper_version) = 0;
    virtual core::status<store_error> set_role(std::int64_t userid, store::role r) = 0;
    virtual core::status<store_error> set_disabled(std::int64_t userid, bool disabled) = 0;
    virtual core::status<store_error> remove(std::int64_t userid) = 0;
    virtual core::result<std::vector<user_record>, store_error> list() = 0;
    // At most `limit` users from the `offset`-th, ordered by name (case-insensitively, then by
    // userid), with the number of users in all. The records carry no password hash.
    virtual core::result<user_page, store_error> list_page(std::int64_t offset,
                                                           std::int64_t limit) = 0;
    // A number that changes whenever a change was committed to the store by someone other than
    // this handle (the `user` commands, another connection: SQLite's PRAGMA data_version); the
    // running server polls it to notice them. The memory store counts its own changes instead.
    virtual core::result<std::int64_t, store_error> data_version() = 0;
    // A counter that moves whenever a user's role or disabled flag changes or a user is deleted,
    // whoever commits it (SQLite triggers on the users table). Unlike data_version it does not
    // move for other tables (bans, SIP devices), so the watch reads it after data_version moved
    // and re-reads the logged-in users only when it moved too.
    virtual core::result<std::int64_t, store_error> users_version() = 0;
    // Accounts with the admin role that are not disabled (no row is copied out).
    virtual core::result<std::size_t, store_error> count_enabled_admins() = 0;
};

// In-memory implementation for unit tests of other modules.
std::unique_ptr<user_store> make_memory_store();

}  // namespace secms::store

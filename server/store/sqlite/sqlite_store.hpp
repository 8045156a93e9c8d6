// SQLite implementations of user_store, ban_store and sip_device_store: WAL, foreign keys on,
// schema migrations by user_version.
#pragma once

#include <filesystem>
#include <memory>

#include "server/core/result.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/sip_device_store.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {

// Opens (creating if missing, mode 0600) and migrates the database at `path`.
core::result<std::unique_ptr<user_store>, store_error> open_sqlite_store(
    const std::filesystem::path& path);

// Opens the bans of the same database file (its own connection; migrates like the above).
core::result<std::unique_ptr<ban_store>, store_error> open_sqlite_ban_store(
    const std::filesystem::path& path);

// Opens the SIP devices of the same database file (its own connection; migrates like the above).
core::result<std::unique_ptr<sip_device_store>, store_error> open_sqlite_sip_device_store(
    const std::filesystem::path& path);

}  // namespace secms::store

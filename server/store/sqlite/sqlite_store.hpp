// SQLite implementation of user_store: WAL, foreign keys on, schema migrations by user_version.
#pragma once

#include <filesystem>
#include <memory>

#include "server/core/result.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {

// Opens (creating if missing, mode 0600) and migrates the database at `path`.
core::result<std::unique_ptr<user_store>, store_error> open_sqlite_store(
    const std::filesystem::path& path);

}  // namespace secms::store

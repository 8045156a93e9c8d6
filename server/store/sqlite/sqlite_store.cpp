// SQLite user_store and ban_store. One connection per store, guarded by a mutex: the user store
// is on the login path, but each call is one indexed statement, far cheaper than the Argon2id
// hash beside it, so a pool would buy nothing. Every statement is prepared once at open and takes
// its values as bound parameters; no SQL is ever built from a value.
#include "server/store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "server/core/log.hpp"
#include "server/store/detail.hpp"

namespace secms::store {

namespace {

// The schema version this code writes and understands (PRAGMA user_version).
constexpr int schema_version = 4;

// migrations[i] takes the schema from version i to version i + 1. Each script is a fixed literal
// run inside one transaction, and ends by recording its version, so a crash mid-migration
// leaves the database at the previous version.
constexpr const char* migrations[schema_version] = {
    R"sql(
CREATE TABLE users(
    userid INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    pepper_version INTEGER NOT NULL,
    role TEXT NOT NULL CHECK(role IN ('user','moderator','admin')),
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
PRAGMA user_version = 1;
)sql",
    // 2: the chat's moderation bans (one per user; they go with the user).
    R"sql(
CREATE TABLE bans(
    userid INTEGER NOT NULL REFERENCES users(userid) ON DELETE CASCADE,
    until INTEGER NOT NULL,
    by_userid INTEGER,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX bans_userid ON bans(userid);
CREATE INDEX bans_until ON bans(until);
PRAGMA user_version = 2;
)sql",
    // 3: the SIP phones a user registered (device credentials). No secret is stored: the SIP
    // edge reads this table (read-only) to check that a device credential is not revoked.
    R"sql(
CREATE TABLE sip_devices(
    device_id TEXT PRIMARY KEY,
    userid INTEGER NOT NULL REFERENCES users(userid) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sip_devices_userid ON sip_devices(userid);
PRAGMA user_version = 3;
)sql",
    // 4: a counter of the changes to users that the running server must act on (a role, the
    // disabled flag, a deletion), kept by triggers whoever writes. PRAGMA data_version moves for
    // any commit by another connection (bans, SIP devices); the server's account watch reads
    // this counter then, and re-reads its logged-in users only when it moved.
    R"sql(
CREATE TABLE users_version(
    id INTEGER PRIMARY KEY CHECK(id = 1),
    version INTEGER NOT NULL
);
INSERT INTO users_version(id, version) VALUES(1, 0);
CREATE TRIGGER users_version_update AFTER UPDATE OF role, disabled ON users
BEGIN
    UPDATE users_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER users_version_delete AFTER DELETE ON users
BEGIN
    UPDATE users_version SET version = version + 1 WHERE id = 1;
END;
PRAGMA user_version = 4;
)sql",
};

constexpr std::string_view select_user =
    "SELECT userid, username, password_hash, pepper_version, role, created_at, disabled "
    "FROM users ";
// The same columns without the password hash (read as ''): for lists that never need it.
constexpr std::string_view select_user_without_hash =
    "SELECT userid, username, '', pepper_version, role, created_at, disabled FROM users ";

// --- RAII over the C API -------------------------------------------------------------------

struct connection_closer {
    // close_v2 defers the close until every statement is finalised, so destruction order
    // between the connection and its statements cannot leak either.
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using connection = std::unique_ptr<sqlite3, connection_closer>;

struct statement_finaliser {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

class statement {
  public:
    statement() = default;
    explicit statement(sqlite3_stmt* s) : stmt_(s) {}

    sqlite3_stmt* get() const noexcept { return stmt_.get(); }

    int bind_int64(int index, std::int64_t v) { return sqlite3_bind_int64(stmt_.get(), index, v); }
    int bind_null(int index) { return sqlite3_bind_null(stmt_.get(), index); }
    // The text is not copied (a null destructor is SQLITE_STATIC): callers step and reset the
    // statement while `v` is alive, and no extra copy of a password hash sits in SQLite's heap.
    int bind_text(int index, std::string_view v) {
        if (v.size() > static_cast<std::size_t>(INT_MAX)) return SQLITE_TOOBIG;
        return sqlite3_bind_text(stmt_.get(), index, v.data(), static_cast<int>(v.size()), nullptr);
    }
    int step() { return sqlite3_step(stmt_.get()); }

    std::int64_t column_int64(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
    std::string column_text(int i) const {
        const unsigned char* text = sqlite3_column_text(stmt_.get(), i);
        if (text == nullptr) return {};
        // column_bytes must be called after column_text: it reports the converted length.
        int size = sqlite3_column_bytes(stmt_.get(), i);
        return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
    }

    // Back to the start with no values bound, ready for the next call.
    void reset() noexcept {
        sqlite3_reset(stmt_.get());
        sqlite3_clear_bindings(stmt_.get());
    }

  private:
    std::unique_ptr<sqlite3_stmt, statement_finaliser> stmt_;
};

// Resets a cached statement however the call using it ends, so the next call starts clean and
// no bound value outlives the call.
class statement_use {
  public:
    explicit statement_use(statement& s) : s_(s) {}
    ~statement_use() { s_.reset(); }
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;

  private:
    statement& s_;
};

// Restores the process umask when the open is done. umask is process-wide, so the store is
// opened at start-up, before other threads create files.
class umask_guard {
  public:
    explicit umask_guard(mode_t mask) : old_(::umask(mask)) {}
    ~umask_guard() { ::umask(old_); }
    umask_guard(const umask_guard&) = delete;
    umask_guard& operator=(const umask_guard&) = delete;

  private:
    mode_t old_;
};

// One place that turns an SQLite result code into a store_error and says what failed. The
// message carries SQLite's text, which names tables and constraints but never a bound value.
store_error fail_with(sqlite3* db, int rc, std::string_view what) {
    const int primary = rc & 0xff;
    const store_error e = (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
                              ? store_error::corrupt
                          : primary == SQLITE_FULL ? store_error::full
                                                   : store_error::unavailable;
    spdlog::error("user database: {} failed: {} ({})", what, sqlite3_errstr(rc),
                  db != nullptr ? sqlite3_errmsg(db) : "no connection");
    return e;
}

core::result<user_record, store_error> read_user(const statement& s) {
    user_record r;
    r.userid = s.column_int64(0);
    r.username = s.column_text(1);
    r.password_hash = s.column_text(2);
    const std::int64_t pepper = s.column_int64(3);
    const std::optional<role> parsed_role = parse_role(s.column_text(4));
    r.created_at = s.column_int64(5);
    const std::int64_t disabled = s.column_int64(6);
    if (pepper < INT_MIN || pepper > INT_MAX || !parsed_role || (disabled != 0 && disabled != 1)) {
        spdlog::error("user database: row for userid {} has unexpected values", r.userid);
        return core::fail(store_error::corrupt);
    }
    r.pepper_version = static_cast<int>(pepper);
    r.role = *parsed_role;
    r.disabled = disabled == 1;
    return r;
}

core::result<connection, store_error> open_database(const std::filesystem::path& path);

class sqlite_store final : public user_store {
  public:
    static core::result<std::unique_ptr<user_store>, store_error> open(
        const std::filesystem::path& path);

    ~sqlite_store() override {
        std::lock_guard lock(mutex_);
        // Move the WAL's content into the main file and truncate the WAL, so no old page
        // version (a replaced or deleted password hash) stays in the -wal file after a clean
        // shutdown. SQLite does much the same when the last connection closes; asking makes it
        // independent of other connections.
        if (db_)
            sqlite3_exec(db_.get(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    }

    core::result<user_record, store_error> create(const new_user& user) override {
        const std::string key = detail::username_key(user.username);
        const std::string_view role_text = to_string(user.role);
        std::lock_guard lock(mutex_);
        statement_use use(insert_);
        int rc = insert_.bind_text(1, user.username);
        if (rc == SQLITE_OK) rc = insert_.bind_text(2, key);
        if (rc == SQLITE_OK) rc = insert_.bind_text(3, user.password_hash);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(4, user.pepper_version);
        if (rc == SQLITE_OK) rc = insert_.bind_text(5, role_text);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(6, user.created_at);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a new user"));
        rc = insert_.step();
        // username_key is the table's only UNIQUE column (the rowid never collides with
        // AUTOINCREMENT), so a unique-constraint failure means the name is taken.
        if (rc == SQLITE_CONSTRAINT_UNIQUE) return core::fail(store_error::username_taken);
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "inserting a user"));
        user_record r;
        r.userid = sqlite3_last_insert_rowid(db_.get());
        r.username = user.username;
        r.password_hash = user.password_hash;
        r.pepper_version = user.pepper_version;
        r.role = user.role;
        r.created_at = user.created_at;
        r.disabled = false;
        return r;
    }

    core::result<user_record, store_error> find_by_name(std::string_view username) override {
        const std::string key = detail::username_key(username);
        std::lock_guard lock(mutex_);
        statement_use use(by_name_);
        if (int rc = by_name_.bind_text(1, key); rc != SQLITE_OK)
            return core::fail(fail_with(db_.get(), rc, "binding a username"));
        return single_user(by_name_);
    }

    core::result<user_record, store_error> find_by_id(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        statement_use use(by_id_);
        if (int rc = by_id_.bind_int64(1, userid); rc != SQLITE_OK)
            return core::fail(fail_with(db_.get(), rc, "binding a userid"));
        return single_user(by_id_);
    }

    core::status<store_error> set_password(std::int64_t userid, std::string_view hash,
                                           int pepper_version) override {
        std::lock_guard lock(mutex_);
        statement_use use(set_password_);
        int rc = set_password_.bind_int64(1, userid);
        if (rc == SQLITE_OK) rc = set_password_.bind_text(2, hash);
        if (rc == SQLITE_OK) rc = set_password_.bind_int64(3, pepper_version);
        return run_update(set_password_, rc, "setting a password");
    }

    core::status<store_error> set_role(std::int64_t userid, store::role r) override {
        std::lock_guard lock(mutex_);
        statement_use use(set_role_);
        int rc = set_role_.bind_int64(1, userid);
        if (rc == SQLITE_OK) rc = set_role_.bind_text(2, to_string(r));
        return run_update(set_role_, rc, "setting a role");
    }

    core::status<store_error> set_disabled(std::int64_t userid, bool disabled) override {
        std::lock_guard lock(mutex_);
        statement_use use(set_disabled_);
        int rc = set_disabled_.bind_int64(1, userid);
        if (rc == SQLITE_OK) rc = set_disabled_.bind_int64(2, disabled ? 1 : 0);
        return run_update(set_disabled_, rc, "disabling a user");
    }

    core::status<store_error> remove(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        statement_use use(remove_);
        const int rc = remove_.bind_int64(1, userid);
        return run_update(remove_, rc, "removing a user");
    }

    core::result<std::vector<user_record>, store_error> list() override {
        std::lock_guard lock(mutex_);
        statement_use use(list_);
        std::vector<user_record> out;
        for (;;) {
            const int rc = list_.step();
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "listing users"));
            auto r = read_user(list_);
            if (!r) return core::fail(r.error());
            out.push_back(std::move(r).value());
        }
    }

    core::result<user_page, store_error> list_page(std::int64_t offset,
                                                   std::int64_t limit) override {
        std::lock_guard lock(mutex_);
        user_page page;
        {
            statement_use use(count_);
            const int rc = count_.step();
            if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "counting users"));
            page.total = count_.column_int64(0);
        }
        statement_use use(page_);
        int rc = page_.bind_int64(1, std::max<std::int64_t>(0, offset));
        if (rc == SQLITE_OK) rc = page_.bind_int64(2, std::max<std::int64_t>(0, limit));
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a page"));
        for (;;) {
            rc = page_.step();
            if (rc == SQLITE_DONE) return page;
            if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "listing users"));
            auto r = read_user(page_);
            if (!r) return core::fail(r.error());
            page.users.push_back(std::move(r).value());
        }
    }

    core::result<std::int64_t, store_error> data_version() override {
        std::lock_guard lock(mutex_);
        statement_use use(data_version_);
        const int rc = data_version_.step();
        if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "reading data_version"));
        return data_version_.column_int64(0);
    }

    core::result<std::int64_t, store_error> users_version() override {
        std::lock_guard lock(mutex_);
        statement_use use(users_version_);
        const int rc = users_version_.step();
        if (rc != SQLITE_ROW)
            return core::fail(fail_with(db_.get(), rc, "reading the users' change counter"));
        return users_version_.column_int64(0);
    }

    core::result<std::size_t, store_error> count_enabled_admins() override {
        std::lock_guard lock(mutex_);
        statement_use use(count_admins_);
        const int rc = count_admins_.step();
        if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "counting admins"));
        return static_cast<std::size_t>(count_admins_.column_int64(0));
    }

  private:
    explicit sqlite_store(connection db) : db_(std::move(db)) {}

    int prepare(statement& s, std::string_view sql) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        s = statement(raw);
        return rc;
    }

    int prepare_all() {
        const std::string columns(select_user);
        const std::string columns_without_hash(select_user_without_hash);
        std::pair<statement*, std::string> all[] = {
            {&insert_,
             "INSERT INTO users(username, username_key, password_hash, pepper_version, role, "
             "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
            {&by_name_, columns + "WHERE username_key = ?1"},
            {&by_id_, columns + "WHERE userid = ?1"},
            {&list_, columns + "ORDER BY userid"},
            {&page_, columns_without_hash + "ORDER BY username_key LIMIT ?2 OFFSET ?1"},
            {&count_, "SELECT COUNT(*) FROM users"},
            {&data_version_, "PRAGMA data_version"},
            {&users_version_, "SELECT version FROM users_version WHERE id = 1"},
            {&count_admins_, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0"},
            {&set_password_,
             "UPDATE users SET password_hash = ?2, pepper_version = ?3 WHERE userid = ?1"},
            {&set_role_, "UPDATE users SET role = ?2 WHERE userid = ?1"},
            {&set_disabled_, "UPDATE users SET disabled = ?2 WHERE userid = ?1"},
            {&remove_, "DELETE FROM users WHERE userid = ?1"},
        };
        for (auto& [s, sql] : all) {
            if (int rc = prepare(*s, sql); rc != SQLITE_OK) return rc;
        }
        return SQLITE_OK;
    }

    // Steps a SELECT expected to match at most one row.
    core::result<user_record, store_error> single_user(statement& s) {
        const int rc = s.step();
        if (rc == SQLITE_DONE) return core::fail(store_error::not_found);
        if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "reading a user"));
        return read_user(s);
    }

    // Steps an UPDATE or DELETE by userid; no row changed means no such user.
    core::status<store_error> run_update(statement& s, int bind_rc, std::string_view what) {
        if (bind_rc != SQLITE_OK) return core::fail(fail_with(db_.get(), bind_rc, what));
        const int rc = s.step();
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, what));
        if (sqlite3_changes(db_.get()) == 0) return core::fail(store_error::not_found);
        return core::ok;
    }

    std::mutex mutex_;
    connection db_;  // declared first: destroyed after the statements
    statement insert_, by_name_, by_id_, list_, set_password_, set_role_, set_disabled_, remove_;
    statement page_, count_, data_version_, users_version_, count_admins_;
};

// Runs one PRAGMA and returns its first column as text ("" when it returns no row).
core::result<std::string, int> pragma(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, statement_finaliser> s(raw);
    if (rc != SQLITE_OK) return core::fail(rc);
    rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return core::fail(rc);
    const unsigned char* text = sqlite3_column_text(s.get(), 0);
    return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

core::result<int, int> user_version(sqlite3* db) {
    auto v = pragma(db, "PRAGMA user_version");
    if (!v) return core::fail(v.error());
    return std::stoi(*v);
}

// Brings the schema up to schema_version. BEGIN IMMEDIATE takes the write lock before the
// version is read, so two processes opening a fresh file cannot both run migration 1.
core::status<store_error> migrate(sqlite3* db) {
    auto before = user_version(db);
    if (!before) return core::fail(fail_with(db, before.error(), "reading the schema version"));
    if (*before > schema_version) {
        spdlog::error("user database: schema version {} is newer than this server knows ({})",
                      *before, schema_version);
        return core::fail(store_error::corrupt);
    }
    if (*before == schema_version) return core::ok;

    if (int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK)
        return core::fail(fail_with(db, rc, "starting the schema migration"));
    auto rollback = [db](int rc, std::string_view what) {
        const store_error e = fail_with(db, rc, what);
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return core::fail(e);
    };
    auto current = user_version(db);
    if (!current) return rollback(current.error(), "reading the schema version");
    if (*current < 0 || *current > schema_version) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return core::fail(store_error::corrupt);
    }
    for (int v = *current; v < schema_version; ++v) {
        if (int rc = sqlite3_exec(db, migrations[v], nullptr, nullptr, nullptr); rc != SQLITE_OK)
            return rollback(rc, "migrating the schema");
        spdlog::info("user database: migrated schema to version {}", v + 1);
    }
    if (int rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK)
        return rollback(rc, "committing the schema migration");
    return core::ok;
}

// Opens the database file with the settings every connection needs and migrates its schema.
core::result<connection, store_error> open_database(const std::filesystem::path& path) {
    // The file, and the -wal and -shm files SQLite creates beside it, hold password hashes:
    // owner-only from the first byte. SQLite gives -wal/-shm the main file's mode, so the
    // chmod below also covers a file an older install created with a wider mode.
    umask_guard mask(077);

    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    connection db(raw);  // a handle is returned even on failure and must be closed
    if (rc != SQLITE_OK) return core::fail(fail_with(db.get(), rc, "opening the database"));
    if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
        spdlog::error("user database: cannot make {} owner-only", path.string());
        return core::fail(store_error::unavailable);
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), 5000);
    // Defensive mode: no writable_schema or other ways to corrupt the file from SQL.
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);

    // secure_delete overwrites deleted content with zeros, so a removed user's or replaced
    // password hash does not linger in free pages of the file.
    struct setting {
        const char* sql;
        const char* expected;
    };
    for (const setting& s :
         {setting{"PRAGMA journal_mode=WAL", "wal"}, setting{"PRAGMA foreign_keys=ON", ""},
          setting{"PRAGMA secure_delete=ON", "1"}}) {
        auto got = pragma(db.get(), s.sql);
        if (!got) return core::fail(fail_with(db.get(), got.error(), s.sql));
        if (*got != s.expected) {
            spdlog::error("user database: {} gave '{}'", s.sql, *got);
            return core::fail(store_error::unavailable);
        }
    }
    if (auto fk = pragma(db.get(), "PRAGMA foreign_keys"); !fk || *fk != "1") {
        spdlog::error("user database: foreign keys could not be enabled");
        return core::fail(store_error::unavailable);
    }

    if (auto m = migrate(db.get()); !m) return core::fail(m.error());
    return db;
}

core::result<std::unique_ptr<user_store>, store_error> sqlite_store::open(
    const std::filesystem::path& path) {
    auto db = open_database(path);
    if (!db) return core::fail(db.error());
    std::unique_ptr<sqlite_store> store(new sqlite_store(std::move(db).value()));
    if (int prc = store->prepare_all(); prc != SQLITE_OK) {
        // After a successful migration, a statement that does not prepare means the tables
        // are not what this version created.
        const store_error e = fail_with(store->db_.get(), prc, "preparing statements");
        return core::fail((prc & 0xff) == SQLITE_ERROR ? store_error::corrupt : e);
    }
    return std::unique_ptr<user_store>(std::move(store));
}

// The bans, on a connection of their own to the same file (WAL lets the two work side by side).
class sqlite_ban_store final : public ban_store {
  public:
    static core::result<std::unique_ptr<ban_store>, store_error> open(
        const std::filesystem::path& path) {
        auto db = open_database(path);
        if (!db) return core::fail(db.error());
        std::unique_ptr<sqlite_ban_store> store(new sqlite_ban_store(std::move(db).value()));
        std::pair<statement*, const char*> all[] = {
            {&store->put_,
             "INSERT INTO bans(userid, until, by_userid, created_at) VALUES(?1, ?2, ?3, ?4) "
             "ON CONFLICT(userid) DO UPDATE SET until = excluded.until, "
             "by_userid = excluded.by_userid, created_at = excluded.created_at"},
            {&store->remove_, "DELETE FROM bans WHERE userid = ?1"},
            {&store->active_,
             "SELECT b.userid, b.until, b.by_userid, b.created_at, u.username, m.username "
             "FROM bans b JOIN users u ON u.userid = b.userid "
             "LEFT JOIN users m ON m.userid = b.by_userid "
             "WHERE b.until > ?1 ORDER BY b.until, b.userid LIMIT ?2"},
            {&store->expired_, "DELETE FROM bans WHERE until <= ?1"},
        };
        for (auto& [st, sql] : all) {
            sqlite3_stmt* raw = nullptr;
            int rc = sqlite3_prepare_v3(store->db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw,
                                        nullptr);
            *st = statement(raw);
            if (rc != SQLITE_OK) {
                const store_error e = fail_with(store->db_.get(), rc, "preparing ban statements");
                return core::fail((rc & 0xff) == SQLITE_ERROR ? store_error::corrupt : e);
            }
        }
        return std::unique_ptr<ban_store>(std::move(store));
    }

    ~sqlite_ban_store() override {
        std::lock_guard lock(mutex_);
        if (db_)
            sqlite3_exec(db_.get(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    }

    core::status<store_error> put(const ban_record& ban) override {
        std::lock_guard lock(mutex_);
        statement_use use(put_);
        int rc = put_.bind_int64(1, ban.userid);
        if (rc == SQLITE_OK) rc = put_.bind_int64(2, ban.until);
        if (rc == SQLITE_OK)
            rc = ban.by_userid != 0 ? put_.bind_int64(3, ban.by_userid) : put_.bind_null(3);
        if (rc == SQLITE_OK) rc = put_.bind_int64(4, ban.created_at);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a ban"));
        rc = put_.step();
        // The only foreign key is the banned user: a violation means there is no such user.
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return core::fail(store_error::not_found);
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "saving a ban"));
        return core::ok;
    }

    core::status<store_error> remove(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        statement_use use(remove_);
        int rc = remove_.bind_int64(1, userid);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a userid"));
        rc = remove_.step();
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "lifting a ban"));
        if (sqlite3_changes(db_.get()) == 0) return core::fail(store_error::not_found);
        return core::ok;
    }

    core::result<std::vector<ban_record>, store_error> active(std::int64_t now,
                                                              std::size_t limit) override {
        std::lock_guard lock(mutex_);
        statement_use use(active_);
        const auto capped = static_cast<std::int64_t>(
            std::min<std::size_t>(limit, static_cast<std::size_t>(INT64_MAX)));
        int rc = active_.bind_int64(1, now);
        if (rc == SQLITE_OK) rc = active_.bind_int64(2, capped);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a time"));
        std::vector<ban_record> out;
        for (;;) {
            rc = active_.step();
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "listing bans"));
            ban_record b;
            b.userid = active_.column_int64(0);
            b.until = active_.column_int64(1);
            b.by_userid = active_.column_int64(2);  // NULL reads as 0
            b.created_at = active_.column_int64(3);
            b.username = active_.column_text(4);
            b.by_username = active_.column_text(5);
            out.push_back(std::move(b));
        }
    }

    core::result<std::size_t, store_error> remove_expired(std::int64_t now) override {
        std::lock_guard lock(mutex_);
        statement_use use(expired_);
        int rc = expired_.bind_int64(1, now);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a time"));
        rc = expired_.step();
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "removing old bans"));
        return static_cast<std::size_t>(sqlite3_changes(db_.get()));
    }

  private:
    explicit sqlite_ban_store(connection db) : db_(std::move(db)) {}

    std::mutex mutex_;
    connection db_;  // declared first: destroyed after the statements
    statement put_, remove_, active_, expired_;
};

// The SIP devices, on a connection of their own to the same file.
class sqlite_sip_device_store final : public sip_device_store {
  public:
    static core::result<std::unique_ptr<sip_device_store>, store_error> open(
        const std::filesystem::path& path) {
        auto db = open_database(path);
        if (!db) return core::fail(db.error());
        std::unique_ptr<sqlite_sip_device_store> store(
            new sqlite_sip_device_store(std::move(db).value()));
        std::pair<statement*, const char*> all[] = {
            {&store->list_,
             "SELECT device_id, userid, label, created_at, expires_at FROM sip_devices "
             "WHERE userid = ?1 ORDER BY created_at, rowid"},
            {&store->count_, "SELECT count(*) FROM sip_devices WHERE userid = ?1"},
            // One statement: the count and the insert cannot be split by another writer.
            {&store->insert_,
             "INSERT INTO sip_devices(device_id, userid, label, created_at, expires_at) "
             "SELECT ?1, ?2, ?3, ?4, ?5 "
             "WHERE (SELECT count(*) FROM sip_devices WHERE userid = ?2) < ?6"},
            {&store->remove_, "DELETE FROM sip_devices WHERE userid = ?1 AND device_id = ?2"},
        };
        for (auto& [st, sql] : all) {
            sqlite3_stmt* raw = nullptr;
            int rc = sqlite3_prepare_v3(store->db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw,
                                        nullptr);
            *st = statement(raw);
            if (rc != SQLITE_OK) {
                const store_error e =
                    fail_with(store->db_.get(), rc, "preparing SIP device statements");
                return core::fail((rc & 0xff) == SQLITE_ERROR ? store_error::corrupt : e);
            }
        }
        return std::unique_ptr<sip_device_store>(std::move(store));
    }

    ~sqlite_sip_device_store() override {
        std::lock_guard lock(mutex_);
        if (db_)
            sqlite3_exec(db_.get(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    }

    core::result<std::vector<sip_device_record>, store_error> list(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        statement_use use(list_);
        int rc = list_.bind_int64(1, userid);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a userid"));
        std::vector<sip_device_record> out;
        for (;;) {
            rc = list_.step();
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW)
                return core::fail(fail_with(db_.get(), rc, "listing SIP devices"));
            sip_device_record d;
            d.device_id = list_.column_text(0);
            d.userid = list_.column_int64(1);
            d.label = list_.column_text(2);
            d.created_at = list_.column_int64(3);
            d.expires_at = list_.column_int64(4);
            out.push_back(std::move(d));
        }
    }

    core::result<std::size_t, store_error> count(std::int64_t userid) override {
        std::lock_guard lock(mutex_);
        statement_use use(count_);
        int rc = count_.bind_int64(1, userid);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a userid"));
        rc = count_.step();
        if (rc != SQLITE_ROW) return core::fail(fail_with(db_.get(), rc, "counting SIP devices"));
        return static_cast<std::size_t>(count_.column_int64(0));
    }

    core::result<sip_device_creation, store_error> create(const sip_device_record& device,
                                                          std::size_t max_per_user) override {
        std::lock_guard lock(mutex_);
        statement_use use(insert_);
        const auto capped = static_cast<std::int64_t>(
            std::min<std::size_t>(max_per_user, static_cast<std::size_t>(INT64_MAX)));
        int rc = insert_.bind_text(1, device.device_id);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(2, device.userid);
        if (rc == SQLITE_OK) rc = insert_.bind_text(3, device.label);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(4, device.created_at);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(5, device.expires_at);
        if (rc == SQLITE_OK) rc = insert_.bind_int64(6, capped);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a SIP device"));
        rc = insert_.step();
        // The only foreign key is the owner: a violation means there is no such user.
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return core::fail(store_error::not_found);
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "saving a SIP device"));
        if (sqlite3_changes(db_.get()) == 0) return sip_device_creation::limit_reached;
        return sip_device_creation::created;
    }

    core::status<store_error> remove(std::int64_t userid, std::string_view device_id) override {
        std::lock_guard lock(mutex_);
        statement_use use(remove_);
        int rc = remove_.bind_int64(1, userid);
        if (rc == SQLITE_OK) rc = remove_.bind_text(2, device_id);
        if (rc != SQLITE_OK) return core::fail(fail_with(db_.get(), rc, "binding a SIP device"));
        rc = remove_.step();
        if (rc != SQLITE_DONE) return core::fail(fail_with(db_.get(), rc, "removing a SIP device"));
        if (sqlite3_changes(db_.get()) == 0) return core::fail(store_error::not_found);
        return core::ok;
    }

  private:
    explicit sqlite_sip_device_store(connection db) : db_(std::move(db)) {}

    std::mutex mutex_;
    connection db_;  // declared first: destroyed after the statements
    statement list_, count_, insert_, remove_;
};

}  // namespace

core::result<std::unique_ptr<user_store>, store_error> open_sqlite_store(
    const std::filesystem::path& path) {
    return sqlite_store::open(path);
}

core::result<std::unique_ptr<ban_store>, store_error> open_sqlite_ban_store(
    const std::filesystem::path& path) {
    return sqlite_ban_store::open(path);
}

core::result<std::unique_ptr<sip_device_store>, store_error> open_sqlite_sip_device_store(
    const std::filesystem::path& path) {
    return sqlite_sip_device_store::open(path);
}

}  // namespace secms::store

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/core/testing/temp_dir.hpp"
#include "server/store/ban_store.hpp"
#include "server/store/sip_device_store.hpp"
#include "server/store/sqlite/sqlite_store.hpp"
#include "server/store/user_store.hpp"

namespace secms::store {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class temp_dir : public core::testing::temp_dir {
  public:
    temp_dir() : core::testing::temp_dir("secms-store") {}
};

new_user make_user(std::string name,
                   std::string hash = "argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                   store::role r = role::user) {
    new_user u;
    u.username = std::move(name);
    u.password_hash = std::move(hash);
    u.pepper_version = 1;
    u.role = r;
    u.created_at = 1'700'000'000;
    return u;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string bytes(static_cast<std::size_t>(fs::file_size(p)), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777u;
}

// Direct access to a database file, to check what the store wrote or to plant bad content.
class raw_db {
  public:
    explicit raw_db(const fs::path& p) {
        if (sqlite3_open(p.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db_);
    }
    ~raw_db() { sqlite3_close(db_); }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;

    int exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
    std::int64_t scalar(const char* sql) {
        sqlite3_stmt* s = nullptr;
        std::int64_t v = -1;
        if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
    }

  private:
    sqlite3* db_ = nullptr;
};

// --- Both implementations ---------------------------------------------------------------

struct memory_backend {
    std::unique_ptr<user_store> open() { return make_memory_store(); }
};

struct sqlite_backend {
    temp_dir dir;
    std::unique_ptr<user_store> open() {
        auto s = open_sqlite_store(dir.path() / "users.db");
        if (!s) {
            ADD_FAILURE() << "open_sqlite_store: " << message(s.error());
            return nullptr;
        }
        return std::move(s).value();
    }
};

template <class Backend>
class UserStore : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = backend_.open();
        ASSERT_NE(store_, nullptr);
    }
    Backend backend_;
    std::unique_ptr<user_store> store_;
};

struct backend_names {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, memory_backend> ? "Memory" : "Sqlite";
    }
};

using backends = ::testing::Types<memory_backend, sqlite_backend>;
TYPED_TEST_SUITE(UserStore, backends, backend_names);

TYPED_TEST(UserStore, CreateAssignsIncreasingIdsFromOne) {
    auto a = this->store_->create(make_user("alice"));
    auto b = this->store_->create(make_user("bob"));
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->userid, 1);
    EXPECT_EQ(b->userid, 2);
    EXPECT_EQ(a->username, "alice");
    EXPECT_FALSE(a->disabled);
}

TYPED_TEST(UserStore, FindByNameIgnoresCaseAndKeepsSpelling) {
    ASSERT_TRUE(this->store_->create(make_user("Alice", "hash-a", role::moderator)));
    for (const char* name : {"Alice", "alice", "ALICE", "aLiCe"}) {
        auto found = this->store_->find_by_name(name);
        ASSERT_TRUE(found) << name;
        EXPECT_EQ(found->username, "Alice");  // as typed at registration
        EXPECT_EQ(found->password_hash, "hash-a");
        EXPECT_EQ(found->pepper_version, 1);
        EXPECT_EQ(found->role, role::moderator);
        EXPECT_EQ(found->created_at, 1'700'000'000);
        EXPECT_FALSE(found->disabled);
    }
}

TYPED_TEST(UserStore, FindById) {
    auto created = this->store_->create(make_user("carol", "hash-c"));
    ASSERT_TRUE(created);
    auto found = this->store_->find_by_id(created->userid);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->username, "carol");
    EXPECT_EQ(found->password_hash, "hash-c");
}

TYPED_TEST(UserStore, DuplicateNameIsTakenInAnyCase) {
    ASSERT_TRUE(this->store_->create(make_user("dave", "first")));
    for (const char* name : {"dave", "Dave", "DAVE"}) {
        auto again = this->store_->create(make_user(name, "second"));
        ASSERT_FALSE(again) << name;
        EXPECT_EQ(again.error(), store_error::username_taken);
    }
    auto kept = this->store_->find_by_name("dave");
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->password_hash, "first");
    auto all = this->store_->list();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 1u);
}

TYPED_TEST(UserStore, UnknownUserIsNotFound) {
    EXPECT_EQ(this->store_->find_by_name("nobody").error(), store_error::not_found);
    EXPECT_EQ(this->store_->find_by_id(42).error(), store_error::not_found);
    EXPECT_EQ(this->store_->set_password(42, "h", 1).error(), store_error::not_found);
    EXPECT_EQ(this->store_->set_role(42, role::admin).error(), store_error::not_found);
    EXPECT_EQ(this->store_->set_disabled(42, true).error(), store_error::not_found);
    EXPECT_EQ(this->store_->remove(42).error(), store_error::not_found);
}

TYPED_TEST(UserStore, SetPasswordReplacesHashAndPepperVersion) {
    auto u = this->store_->create(make_user("erin", "old-hash"));
    ASSERT_TRUE(u);
    ASSERT_TRUE(this->store_->set_password(u->userid, "new-hash", 2));
    auto found = this->store_->find_by_name("erin");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->password_hash, "new-hash");
    EXPECT_EQ(found->pepper_version, 2);
}

TYPED_TEST(UserStore, SetRole) {
    auto u = this->store_->create(make_user("frank"));
    ASSERT_TRUE(u);
    for (role r : {role::admin, role::moderator, role::user}) {
        ASSERT_TRUE(this->store_->set_role(u->userid, r));
        auto found = this->store_->find_by_id(u->userid);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->role, r);
    }
}

TYPED_TEST(UserStore, SetDisabled) {
    auto u = this->store_->create(make_user("grace"));
    ASSERT_TRUE(u);
    ASSERT_TRUE(this->store_->set_disabled(u->userid, true));
    EXPECT_TRUE(this->store_->find_by_id(u->userid)->disabled);
    ASSERT_TRUE(this->store_->set_disabled(u->userid, false));
    EXPECT_FALSE(this->store_->find_by_id(u->userid)->disabled);
}

TYPED_TEST(UserStore, RemoveFreesNameButNeverReusesId) {
    auto u = this->store_->create(make_user("heidi"));
    ASSERT_TRUE(u);
    ASSERT_TRUE(this->store_->remove(u->userid));
    EXPECT_EQ(this->store_->find_by_id(u->userid).error(), store_error::not_found);
    EXPECT_EQ(this->store_->find_by_name("heidi").error(), store_error::not_found);
    EXPECT_EQ(this->store_->remove(u->userid).error(), store_error::not_found);
    auto again = this->store_->create(make_user("HEIDI"));
    ASSERT_TRUE(again);
    EXPECT_GT(again->userid, u->userid);
}

TYPED_TEST(UserStore, ListIsOrderedByUserid) {
    for (const char* name : {"zed", "amy", "Mike", "bob"}) {
        ASSERT_TRUE(this->store_->create(make_user(name)));
    }
    ASSERT_TRUE(this->store_->remove(2));
    auto all = this->store_->list();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].userid, 1);
    EXPECT_EQ((*all)[0].username, "zed");
    EXPECT_EQ((*all)[1].userid, 3);
    EXPECT_EQ((*all)[1].username, "Mike");
    EXPECT_EQ((*all)[2].userid, 4);
    EXPECT_EQ((*all)[2].username, "bob");
}

TYPED_TEST(UserStore, PagesAreOrderedByNameIgnoringCaseWithTheTotal) {
    for (const char* name : {"zed", "amy", "Mike", "bob", "Carol"}) {
        ASSERT_TRUE(this->store_->create(make_user(name)));
    }
    auto first = this->store_->list_page(0, 2);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->total, 5);
    ASSERT_EQ(first->users.size(), 2u);
    EXPECT_EQ(first->users[0].username, "amy");
    EXPECT_EQ(first->users[1].username, "bob");
    auto second = this->store_->list_page(2, 2);
    ASSERT_TRUE(second);
    ASSERT_EQ(second->users.size(), 2u);
    EXPECT_EQ(second->users[0].username, "Carol");
    EXPECT_EQ(second->users[1].username, "Mike");
    auto last = this->store_->list_page(4, 100);
    ASSERT_TRUE(last);
    ASSERT_EQ(last->users.size(), 1u);
    EXPECT_EQ(last->users[0].username, "zed");
    auto beyond = this->store_->list_page(9, 10);
    ASSERT_TRUE(beyond);
    EXPECT_TRUE(beyond->users.empty());
    EXPECT_EQ(beyond->total, 5);
    auto none = this->store_->list_page(0, 0);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->users.empty());
    EXPECT_EQ(none->total, 5);
}

TYPED_TEST(UserStore, EmptyPageOfAnEmptyStore) {
    auto page = this->store_->list_page(0, 50);
    ASSERT_TRUE(page);
    EXPECT_TRUE(page->users.empty());
    EXPECT_EQ(page->total, 0);
}

TYPED_TEST(UserStore, UsersVersionMovesForRoleDisabledAndDeletionOnly) {
    auto u = this->store_->create(make_user("alice"));
    ASSERT_TRUE(u);
    auto counter = [&] { return *this->store_->users_version(); };
    const auto start = counter();
    ASSERT_TRUE(this->store_->set_password(u->userid, "other-hash", 1));
    EXPECT_EQ(counter(), start);
    ASSERT_TRUE(this->store_->set_role(u->userid, role::admin));
    const auto after_role = counter();
    EXPECT_NE(after_role, start);
    EXPECT_EQ(*this->store_->count_enabled_admins(), 1u);
    ASSERT_TRUE(this->store_->set_disabled(u->userid, true));
    const auto after_disable = counter();
    EXPECT_NE(after_disable, after_role);
    EXPECT_EQ(*this->store_->count_enabled_admins(), 0u);
    ASSERT_TRUE(this->store_->remove(u->userid));
    EXPECT_NE(counter(), after_disable);
}

TYPED_TEST(UserStore, PagesCarryNoPasswordHash) {
    ASSERT_TRUE(this->store_->create(make_user("alice", "argon2id$secret")));
    auto page = this->store_->list_page(0, 10);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->users.size(), 1u);
    EXPECT_EQ(page->users[0].password_hash, "");
    EXPECT_EQ(this->store_->find_by_name("alice")->password_hash, "argon2id$secret");
}

TYPED_TEST(UserStore, DataVersionCanBeRead) {
    auto first = this->store_->data_version();
    ASSERT_TRUE(first);
    auto again = this->store_->data_version();
    ASSERT_TRUE(again);
}

TYPED_TEST(UserStore, EmptyListIsEmpty) {
    auto all = this->store_->list();
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->empty());
}

TYPED_TEST(UserStore, ConcurrentCreatesGetDistinctIdsAndOneWinnerPerName) {
    constexpr int threads = 8;
    constexpr int per_thread = 20;
    std::atomic<int> taken{0};
    std::vector<std::vector<std::int64_t>> ids(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto u = this->store_->create(
                    make_user("user-" + std::to_string(t) + "-" + std::to_string(i)));
                if (u) ids[static_cast<std::size_t>(t)].push_back(u->userid);
                // Every thread races for the same name too: exactly one may win it.
                auto shared = this->store_->create(make_user(i % 2 ? "Shared" : "shared"));
                if (!shared && shared.error() == store_error::username_taken) ++taken;
            }
        });
    }
    for (auto& th : pool) th.join();
    std::set<std::int64_t> distinct;
    for (const auto& v : ids) distinct.insert(v.begin(), v.end());
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_EQ(taken.load(), threads * per_thread - 1);
    auto all = this->store_->list();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), static_cast<std::size_t>(threads * per_thread + 1));
}

TEST(UserStoreText, RoleRoundTrips) {
    for (role r : {role::user, role::moderator, role::admin}) {
        auto parsed = parse_role(to_string(r));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, r);
    }
    EXPECT_FALSE(parse_role("Admin"));
    EXPECT_FALSE(parse_role(""));
    EXPECT_FALSE(parse_role("root"));
}

TEST(UserStoreText, EveryErrorHasItsOwnMessage) {
    std::set<std::string_view> seen;
    for (store_error e : {store_error::not_found, store_error::username_taken,
                          store_error::unavailable, store_error::corrupt}) {
        EXPECT_FALSE(message(e).empty());
        EXPECT_TRUE(seen.insert(message(e)).second);
    }
}

// --- SQLite only ------------------------------------------------------------------------

class SqliteStore : public ::testing::Test {
  protected:
    fs::path db_path() const { return dir_.path() / "users.db"; }
    std::unique_ptr<user_store> open() {
        auto s = open_sqlite_store(db_path());
        if (!s) {
            ADD_FAILURE() << "open_sqlite_store: " << message(s.error());
            return nullptr;
        }
        return std::move(s).value();
    }
    // The database file and its WAL, as bytes, after the store is closed.
    std::string file_bytes() const {
        std::string all = read_all(db_path());
        fs::path wal = db_path().string() + "-wal";
        if (fs::exists(wal)) all += read_all(wal);
        return all;
    }
    temp_dir dir_;
};

TEST_F(SqliteStore, DataVersionChangesOnlyWithAnotherConnectionsCommit) {
    auto server = open();
    auto cli = open();
    ASSERT_NE(server, nullptr);
    ASSERT_NE(cli, nullptr);
    auto made = server->create(make_user("alice"));
    ASSERT_TRUE(made);
    auto before = server->data_version();
    ASSERT_TRUE(before);
    // Its own write does not move its own mark: the server acts on those itself.
    ASSERT_TRUE(server->set_role(made->userid, role::moderator));
    auto own = server->data_version();
    ASSERT_TRUE(own);
    EXPECT_EQ(*own, *before);
    ASSERT_TRUE(cli->set_disabled(made->userid, true));
    auto after = server->data_version();
    ASSERT_TRUE(after);
    EXPECT_NE(*after, *before);
    auto seen = server->find_by_id(made->userid);
    ASSERT_TRUE(seen);
    EXPECT_TRUE(seen->disabled);
}

TEST_F(SqliteStore, UsersVersionSeesAnotherConnectionsChangesToUsersOnly) {
    auto server = open();
    auto cli = open();
    ASSERT_NE(server, nullptr);
    ASSERT_NE(cli, nullptr);
    auto made = server->create(make_user("alice"));
    ASSERT_TRUE(made);
    const auto before = *server->users_version();
    auto bans = open_sqlite_ban_store(db_path());
    ASSERT_TRUE(bans);
    ASSERT_TRUE((*bans)->put({made->userid, 4'000'000'000, 0, 1, {}, {}}));
    EXPECT_EQ(*server->users_version(), before);
    ASSERT_TRUE(cli->set_role(made->userid, role::moderator));
    EXPECT_NE(*server->users_version(), before);
}

TEST_F(SqliteStore, FilesAreOwnerOnlyWhateverTheUmask) {
    const mode_t old = ::umask(022);
    auto store = open();
    ::umask(old);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create(make_user("ivan")));  // makes SQLite use its -wal and -shm
    EXPECT_EQ(mode_of(db_path()), 0600u);
    for (const char* suffix : {"-wal", "-shm"}) {
        fs::path p = db_path().string() + suffix;
        ASSERT_TRUE(fs::exists(p)) << p;
        EXPECT_EQ(mode_of(p), 0600u) << p;
    }
}

TEST_F(SqliteStore, ExistingFileIsMadeOwnerOnly) {
    { std::ofstream(db_path()).flush(); }  // an empty file is a valid, empty database
    fs::permissions(db_path(), fs::perms(0644));
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(mode_of(db_path()), 0600u);
}

TEST_F(SqliteStore, DataSurvivesCloseAndReopen) {
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        auto u = store->create(make_user("Judy", "judy-hash", role::admin));
        ASSERT_TRUE(u);
        ASSERT_TRUE(store->set_disabled(u->userid, true));
    }
    auto store = open();
    ASSERT_NE(store, nullptr);
    auto found = store->find_by_name("judy");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->userid, 1);
    EXPECT_EQ(found->username, "Judy");
    EXPECT_EQ(found->password_hash, "judy-hash");
    EXPECT_EQ(found->role, role::admin);
    EXPECT_TRUE(found->disabled);
    auto next = store->create(make_user("ken"));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->userid, 2);
}

// Version 4 (migration 2 added the chat's bans, 3 the SIP devices, 4 the users' change
// counter): nothing else.
TEST_F(SqliteStore, SchemaVersionIsFourWithWalAndOnlyTheUsersBansSipDevicesAndCounterTables) {
    { ASSERT_NE(open(), nullptr); }
    raw_db db(db_path());
    EXPECT_EQ(db.scalar("PRAGMA user_version"), 4);
    // The WAL mode is persistent in the file; a check through a second connection sees it.
    EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    // users, plus sqlite_sequence that AUTOINCREMENT needs: no keys, sessions or messages.
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT IN "
                        "('users', 'bans', 'sip_devices', 'users_version', 'sqlite_sequence')"),
              0);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'users'"), 1);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'bans'"), 1);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'sip_devices'"), 1);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'sip_devices_userid'"), 1);
}

// A database an earlier version made (schema 1) is migrated in place, its users kept.
TEST_F(SqliteStore, VersionOneDatabaseIsMigratedKeepingItsUsers) {
    {
        raw_db db(db_path());
        ASSERT_EQ(db.exec("CREATE TABLE users(userid INTEGER PRIMARY KEY AUTOINCREMENT, "
                          "username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE, "
                          "password_hash TEXT NOT NULL, pepper_version INTEGER NOT NULL, "
                          "role TEXT NOT NULL CHECK(role IN ('user','moderator','admin')), "
                          "created_at INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
                          "INSERT INTO users(username, username_key, password_hash, "
                          "pepper_version, role, created_at) "
                          "VALUES('Old', 'old', 'h', 1, 'moderator', 5);"
                          "PRAGMA user_version = 1;"),
                  SQLITE_OK);
    }
    auto store = open();
    ASSERT_NE(store, nullptr);
    auto old = store->find_by_name("old");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->role, role::moderator);
    raw_db db(db_path());
    EXPECT_EQ(db.scalar("PRAGMA user_version"), 4);
    EXPECT_EQ(db.scalar("SELECT version FROM users_version"), 0);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM bans"), 0);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sip_devices"), 0);
}

TEST_F(SqliteStore, NewerSchemaIsRefusedAsCorrupt) {
    {
        raw_db db(db_path());
        ASSERT_EQ(db.exec("CREATE TABLE users(x); PRAGMA user_version = 99;"), SQLITE_OK);
    }
    auto s = open_sqlite_store(db_path());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), store_error::corrupt);
    raw_db db(db_path());
    EXPECT_EQ(db.scalar("PRAGMA user_version"), 99);  // left as it was
}

TEST_F(SqliteStore, CurrentVersionWithWrongTablesIsCorrupt) {
    {
        raw_db db(db_path());
        ASSERT_EQ(db.exec("CREATE TABLE users(x); PRAGMA user_version = 4;"), SQLITE_OK);
    }
    auto s = open_sqlite_store(db_path());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), store_error::corrupt);
}

TEST_F(SqliteStore, FileThatIsNotADatabaseIsAnError) {
    {
        std::ofstream out(db_path(), std::ios::binary);
        for (int i = 0; i < 200; ++i) out << "this is not an SQLite database, just text. ";
    }
    auto s = open_sqlite_store(db_path());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), store_error::corrupt);
}

TEST_F(SqliteStore, MissingDirectoryIsUnavailable) {
    auto s = open_sqlite_store(dir_.path() / "no" / "such" / "dir" / "users.db");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), store_error::unavailable);
}

TEST_F(SqliteStore, UnexpectedRowValuesAreCorrupt) {
    { ASSERT_NE(open(), nullptr); }
    {
        raw_db db(db_path());
        ASSERT_EQ(db.exec("INSERT INTO users(username, username_key, password_hash, "
                          "pepper_version, role, created_at, disabled) "
                          "VALUES('mallory', 'mallory', 'h', 1, 'user', 0, 7)"),
                  SQLITE_OK);
    }
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->find_by_name("mallory").error(), store_error::corrupt);
    EXPECT_EQ(store->list().error(), store_error::corrupt);
}

// secure_delete: the bytes of a removed user's hash are zeroed, not left in a free page.
TEST_F(SqliteStore, RemovedPasswordHashIsGoneFromTheFile) {
    const std::string hash = "argon2id$v=19$m=19456,t=2,p=1$UNIQUEsaltREMOVE$UNIQUEhashREMOVEDme";
    std::int64_t id = 0;
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        auto u = store->create(make_user("oscar", hash));
        ASSERT_TRUE(u);
        id = u->userid;
        ASSERT_TRUE(store->create(make_user("peggy", "another-hash")));
    }
    // Closing checkpointed the WAL: the hash is now in the main file (so the check below
    // is not passing merely because it never got there).
    ASSERT_NE(read_all(db_path()).find(hash), std::string::npos);
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        ASSERT_TRUE(store->remove(id));
    }
    EXPECT_FALSE(fs::exists(db_path().string() + "-wal") &&
                 fs::file_size(db_path().string() + "-wal") > 0)
        << "WAL not checkpointed and truncated on close";
    EXPECT_EQ(file_bytes().find(hash), std::string::npos);
    EXPECT_NE(file_bytes().find("another-hash"), std::string::npos);
}

// A password change must not leave the old hash behind either (whether SQLite rewrites the
// cell in place or moves the longer row and frees the old cell).
TEST_F(SqliteStore, ReplacedPasswordHashIsGoneFromTheFile) {
    const std::string old_hash = "argon2id$v=19$m=19456,t=2,p=1$UNIQUEsaltOLD$UNIQUEhashOLDvalue";
    const std::string new_hash =
        "argon2id$v=19$m=19456,t=2,p=1$longerNEWsaltvalue$a-much-longer-new-hash-that-moves-the-"
        "cell-elsewhere";
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        ASSERT_TRUE(store->create(make_user("quinn", old_hash)));
    }
    ASSERT_NE(read_all(db_path()).find(old_hash), std::string::npos);
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        ASSERT_TRUE(store->set_password(1, new_hash, 2));
    }
    EXPECT_EQ(file_bytes().find(old_hash), std::string::npos);
    EXPECT_NE(file_bytes().find(new_hash), std::string::npos);
}

// --- Bans (both implementations) ------------------------------------------------------------

struct memory_bans {
    std::unique_ptr<user_store> users = make_memory_store();
    std::unique_ptr<ban_store> open() { return make_memory_ban_store(); }
};

struct sqlite_bans {
    temp_dir dir;
    std::unique_ptr<user_store> users;
    std::unique_ptr<ban_store> open() {
        if (!users) users = std::move(open_sqlite_store(dir.path() / "users.db")).value();
        auto s = open_sqlite_ban_store(dir.path() / "users.db");
        if (!s) {
            ADD_FAILURE() << "open_sqlite_ban_store: " << message(s.error());
            return nullptr;
        }
        return std::move(s).value();
    }
};

template <class Backend>
class BanStore : public ::testing::Test {
  protected:
    void SetUp() override {
        bans_ = backend_.open();
        ASSERT_NE(bans_, nullptr);
        for (const char* name : {"mod", "ann", "bob"}) {
            ASSERT_TRUE(backend_.users->create(make_user(name)));
        }
    }
    static ban_record ban(std::int64_t userid, std::int64_t until, std::string name) {
        return {userid, until, 1, 100, std::move(name), "mod"};
    }
    Backend backend_;
    std::unique_ptr<ban_store> bans_;
};

struct ban_backend_names {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, memory_bans> ? "Memory" : "Sqlite";
    }
};

using ban_backends = ::testing::Types<memory_bans, sqlite_bans>;
TYPED_TEST_SUITE(BanStore, ban_backends, ban_backend_names);

TYPED_TEST(BanStore, PutListsActiveSoonestFirstWithNames) {
    ASSERT_TRUE(this->bans_->put(this->ban(3, 500, "bob")));
    ASSERT_TRUE(this->bans_->put(this->ban(2, 300, "ann")));
    auto list = this->bans_->active(200, 10);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].userid, 2);
    EXPECT_EQ((*list)[0].username, "ann");
    EXPECT_EQ((*list)[0].by_userid, 1);
    EXPECT_EQ((*list)[0].by_username, "mod");
    EXPECT_EQ((*list)[0].created_at, 100);
    EXPECT_EQ((*list)[1].until, 500);
    EXPECT_EQ(this->bans_->active(200, 1)->size(), 1u);   // bounded
    EXPECT_EQ(this->bans_->active(300, 10)->size(), 1u);  // the ban is over at `until`
}

TYPED_TEST(BanStore, PutReplacesTheUsersBan) {
    ASSERT_TRUE(this->bans_->put(this->ban(2, 300, "ann")));
    ASSERT_TRUE(this->bans_->put(this->ban(2, 900, "ann")));
    auto list = this->bans_->active(0, 10);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].until, 900);
}

TYPED_TEST(BanStore, RemoveAndRemoveExpired) {
    ASSERT_TRUE(this->bans_->put(this->ban(2, 300, "ann")));
    ASSERT_TRUE(this->bans_->put(this->ban(3, 500, "bob")));
    ASSERT_TRUE(this->bans_->remove(3));
    EXPECT_EQ(this->bans_->remove(3).error(), store_error::not_found);
    EXPECT_EQ(*this->bans_->remove_expired(299), 0u);
    EXPECT_EQ(*this->bans_->remove_expired(300), 1u);
    EXPECT_TRUE(this->bans_->active(0, 10)->empty());
}

TEST_F(SqliteStore, BansSurviveReopenAndGoWithTheUser) {
    {
        auto users = open();
        ASSERT_NE(users, nullptr);
        ASSERT_TRUE(users->create(make_user("mod")));
        ASSERT_TRUE(users->create(make_user("ann")));
        auto bans = open_sqlite_ban_store(db_path());
        ASSERT_TRUE(bans);
        ASSERT_TRUE((*bans)->put({2, 1'000, 1, 10, "", ""}));
        EXPECT_EQ((*bans)->put({42, 1'000, 1, 10, "", ""}).error(), store_error::not_found);
    }
    auto users = open();
    ASSERT_NE(users, nullptr);
    auto bans = open_sqlite_ban_store(db_path());
    ASSERT_TRUE(bans);
    auto list = (*bans)->active(500, 10);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].username, "ann");
    ASSERT_TRUE(users->remove(2));
    EXPECT_TRUE((*bans)->active(500, 10)->empty());  // ON DELETE CASCADE
}

// --- SIP devices (both implementations) -----------------------------------------------------

struct memory_sip_devices {
    std::unique_ptr<user_store> users = make_memory_store();
    std::unique_ptr<sip_device_store> open() { return make_memory_sip_device_store(); }
};

struct sqlite_sip_devices {
    temp_dir dir;
    std::unique_ptr<user_store> users;
    std::unique_ptr<sip_device_store> open() {
        if (!users) users = std::move(open_sqlite_store(dir.path() / "users.db")).value();
        auto s = open_sqlite_sip_device_store(dir.path() / "users.db");
        if (!s) {
            ADD_FAILURE() << "open_sqlite_sip_device_store: " << message(s.error());
            return nullptr;
        }
        return std::move(s).value();
    }
};

template <class Backend>
class SipDeviceStore : public ::testing::Test {
  protected:
    void SetUp() override {
        devices_ = backend_.open();
        ASSERT_NE(devices_, nullptr);
        for (const char* name : {"ann", "bob"}) {
            ASSERT_TRUE(backend_.users->create(make_user(name)));
        }
    }
    static sip_device_record device(std::string id, std::int64_t userid, std::int64_t created) {
        return {std::move(id), userid, "Desk phone " + std::to_string(created), created,
                created + 1000};
    }
    Backend backend_;
    std::unique_ptr<sip_device_store> devices_;
};

struct sip_device_backend_names {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, memory_sip_devices> ? "Memory" : "Sqlite";
    }
};

using sip_device_backends = ::testing::Types<memory_sip_devices, sqlite_sip_devices>;
TYPED_TEST_SUITE(SipDeviceStore, sip_device_backends, sip_device_backend_names);

TYPED_TEST(SipDeviceStore, CreateListsTheUsersDevicesOldestFirst) {
    auto& d = this->devices_;
    ASSERT_EQ(*d->create(this->device("00000000000000a1", 1, 10), 5), sip_device_creation::created);
    ASSERT_EQ(*d->create(this->device("00000000000000b1", 2, 11), 5), sip_device_creation::created);
    ASSERT_EQ(*d->create(this->device("00000000000000a2", 1, 12), 5), sip_device_creation::created);
    auto list = d->list(1);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].device_id, "00000000000000a1");
    EXPECT_EQ((*list)[0].userid, 1);
    EXPECT_EQ((*list)[0].label, "Desk phone 10");
    EXPECT_EQ((*list)[0].created_at, 10);
    EXPECT_EQ((*list)[0].expires_at, 1010);
    EXPECT_EQ((*list)[1].device_id, "00000000000000a2");
    EXPECT_EQ(*d->count(1), 2u);
    EXPECT_EQ(*d->count(2), 1u);
    EXPECT_TRUE(d->list(3)->empty());
}

TYPED_TEST(SipDeviceStore, TheLimitIsPerUserAndStoresNothing) {
    auto& d = this->devices_;
    ASSERT_EQ(*d->create(this->device("00000000000000a1", 1, 10), 2), sip_device_creation::created);
    ASSERT_EQ(*d->create(this->device("00000000000000a2", 1, 11), 2), sip_device_creation::created);
    EXPECT_EQ(*d->create(this->device("00000000000000a3", 1, 12), 2),
              sip_device_creation::limit_reached);
    EXPECT_EQ(*d->count(1), 2u);
    // Another user's devices do not count toward this one's limit.
    EXPECT_EQ(*d->create(this->device("00000000000000b1", 2, 13), 2), sip_device_creation::created);
    // A removed device makes room again.
    ASSERT_TRUE(d->remove(1, "00000000000000a1"));
    EXPECT_EQ(*d->create(this->device("00000000000000a3", 1, 14), 2), sip_device_creation::created);
}

TYPED_TEST(SipDeviceStore, RemoveOnlyByTheOwner) {
    auto& d = this->devices_;
    ASSERT_EQ(*d->create(this->device("00000000000000a1", 1, 10), 5), sip_device_creation::created);
    EXPECT_EQ(d->remove(2, "00000000000000a1").error(), store_error::not_found);
    EXPECT_EQ(*d->count(1), 1u);
    EXPECT_EQ(d->remove(1, "00000000000000ff").error(), store_error::not_found);
    ASSERT_TRUE(d->remove(1, "00000000000000a1"));
    EXPECT_EQ(d->remove(1, "00000000000000a1").error(), store_error::not_found);
    EXPECT_EQ(*d->count(1), 0u);
}

TEST_F(SqliteStore, SipDevicesSurviveReopenAndGoWithTheUser) {
    {
        auto users = open();
        ASSERT_NE(users, nullptr);
        ASSERT_TRUE(users->create(make_user("ann")));
        ASSERT_TRUE(users->create(make_user("bob")));
        auto devices = open_sqlite_sip_device_store(db_path());
        ASSERT_TRUE(devices);
        sip_device_record d{"0123456789abcdef", 2, "Desk phone", 10, 1'000};
        ASSERT_EQ(*(*devices)->create(d, 10), sip_device_creation::created);
        d.device_id = "0123456789abcdee";
        d.userid = 42;  // no such user
        EXPECT_EQ((*devices)->create(d, 10).error(), store_error::not_found);
    }
    auto users = open();
    ASSERT_NE(users, nullptr);
    auto devices = open_sqlite_sip_device_store(db_path());
    ASSERT_TRUE(devices);
    auto list = (*devices)->list(2);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].device_id, "0123456789abcdef");
    EXPECT_EQ((*list)[0].label, "Desk phone");
    {
        // What the SIP edge reads: the row, by device id, with its owner's name.
        raw_db db(db_path());
        EXPECT_EQ(db.scalar("SELECT count(*) FROM sip_devices d JOIN users u ON u.userid = "
                            "d.userid WHERE d.device_id = '0123456789abcdef' AND "
                            "u.username_key = 'bob' AND u.disabled = 0"),
                  1);
    }
    ASSERT_TRUE(users->remove(2));
    EXPECT_TRUE((*devices)->list(2)->empty());  // ON DELETE CASCADE
    raw_db db(db_path());
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sip_devices"), 0);
}

}  // namespace
}  // namespace secms::store

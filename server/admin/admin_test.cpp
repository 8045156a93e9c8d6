#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "server/admin/account_watch.hpp"
#include "server/admin/admin_routes.hpp"
#include "server/core/clock.hpp"
#include "server/core/testing/temp_dir.hpp"
#include "server/hsm/key_store.hpp"
#include "server/http/router.hpp"
#include "server/store/sqlite/sqlite_store.hpp"

namespace secms::admin {
namespace {

namespace beast_http = http::beast_http;
namespace json = boost::json;
using beast_http::verb;

TEST(AdminPaging, QueryDefaultsAndBounds) {
    auto none = parse_page_query("/api/v1/admin/users");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->offset, 0);
    EXPECT_EQ(none->limit, 50);
    auto both = parse_page_query("/api/v1/admin/users?offset=100&limit=100&x=1");
    ASSERT_TRUE(both);
    EXPECT_EQ(both->offset, 100);
    EXPECT_EQ(both->limit, 100);
    for (const char* bad :
         {"?limit=0", "?limit=101", "?limit=-1", "?limit=", "?limit=1x", "?offset=-1", "?offset=+1",
          "?offset=1e3", "?offset=99999999999", "?limit=5&limit=6"}) {
        EXPECT_FALSE(parse_page_query(std::string("/api/v1/admin/users") + bad)) << bad;
    }
    EXPECT_FALSE(parse_page_query("/x?" + std::string(300, 'a')));
}

TEST(AdminPaging, Iso8601Utc) {
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(iso8601_utc(1'700'000'000), "2023-11-14T22:13:20Z");
}

// The routes, driven through the real router with the in-memory stores.
class AdminRoutesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ctx_.admin = &routes_;
        routes_.on_role_changed(
            [this](std::int64_t id, store::role) { role_calls_.push_back(id); });
        root_ = login("root", store::role::admin);
        mod_ = login("mod", store::role::moderator);
        alice_ = login("alice", store::role::user);
    }

    std::string login(const std::string& name, store::role role) {
        const std::string body =
            R"({"username":")" + name + R"(","password":"correct horse battery"})";
        EXPECT_EQ(run(request(verb::post, "/api/v1/accounts", body)).result_int(), 201u);
        auto u = users_->find_by_name(name);
        EXPECT_TRUE(u);
        EXPECT_TRUE(users_->set_role(u->userid, role));
        auto res = run(request(verb::post, "/api/v1/session", body));
        std::string cookie(res[beast_http::field::set_cookie]);
        return cookie.substr(0, cookie.find(';'));
    }

    http::response run(http::request req) {
        boost::asio::io_context io;
        http::response out;
        boost::asio::co_spawn(io, http::handle_request(std::move(req), {"127.0.0.1", true}, ctx_),
                              [&](std::exception_ptr e, http::response r) {
                                  if (e) std::rethrow_exception(e);
                                  out = std::move(r);
                              });
        io.run();
        return out;
    }

    static http::request request(verb method, std::string target, std::string body,
                                 std::string cookie = {}) {
        http::request req{method, target, 11};
        req.set(beast_http::field::content_type, "application/json");
        req.set(beast_http::field::origin, "https://localhost:8443");
        if (!cookie.empty()) req.set(beast_http::field::cookie, cookie);
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    }

    http::response post(const std::string& target, const std::string& cookie,
                        std::string body = {}) {
        return run(request(verb::post, target, std::move(body), cookie));
    }

    static std::string error_code(const http::response& res) {
        return std::string(json::parse(res.body()).at("error").at("code").as_string());
    }

    std::int64_t id_of(const std::string& name) { return users_->find_by_name(name)->userid; }

    core::manual_clock clock_;
    std::unique_ptr<store::user_store> users_ = store::make_memory_store();
    std::unique_ptr<hsm::key_store> keys_ = hsm::make_memory_key_store();
    auth::password_hasher hasher_{*keys_, {}};
    auth::account_service accounts_{*users_, hasher_, clock_};
    auth::login_sessions sessions_{{}, clock_};
    auth::rate_limiter ip_{{100, 100, 1000}, clock_};
    auth::login_throttle account_{{3}, clock_};
    auth::rate_limiter register_{{100, 100, 1000}, clock_};
    core::metrics metrics_;
    http::static_files files_{std::filesystem::temp_directory_path()};
    boost::asio::thread_pool pool_{1};
    http::server_context ctx_{{"https://localhost:8443", {"https://localhost:8443"}, false},
                              accounts_,
                              sessions_,
                              {ip_, account_, register_},
                              metrics_,
                              files_,
                              pool_};
    admin_routes routes_{{1000, 1000, 100}, *users_, clock_};
    std::vector<std::int64_t> role_calls_;
    std::string root_, mod_, alice_;
};

TEST_F(AdminRoutesTest, OnlyAdminsAreServed) {
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "")).result_int(), 401u);
    auto as_user = run(request(verb::get, "/api/v1/admin/users", "", alice_));
    EXPECT_EQ(as_user.result_int(), 403u);
    EXPECT_EQ(error_code(as_user), "forbidden");
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "", mod_)).result_int(), 403u);
    EXPECT_EQ(post("/api/v1/admin/users/alice/disable", mod_).result_int(), 403u);
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "", root_)).result_int(), 200u);
}

TEST_F(AdminRoutesTest, RoleIsCheckedInTheStoreNotTheLogin) {
    // A role taken away behind the login's back (the command line) counts at once.
    ASSERT_TRUE(users_->set_role(id_of("root"), store::role::user));
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "", root_)).result_int(), 403u);
}

TEST_F(AdminRoutesTest, ListsUsersByNameWithLoginsAndPages) {
    auto res = run(request(verb::get, "/api/v1/admin/users?offset=0&limit=2", "", root_));
    ASSERT_EQ(res.result_int(), 200u);
    auto v = json::parse(res.body()).as_object();
    EXPECT_EQ(v.at("total").as_int64(), 3);
    const auto& users = v.at("users").as_array();
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].at("username").as_string(), "alice");
    EXPECT_EQ(users[0].at("role").as_string(), "user");
    EXPECT_EQ(users[0].at("disabled").as_bool(), false);
    EXPECT_EQ(users[0].at("created_at").as_string(), "2023-11-14T22:13:20Z");
    EXPECT_EQ(users[0].at("logins").to_number<std::int64_t>(), 1);
    EXPECT_EQ(users[1].at("username").as_string(), "mod");
    auto rest = run(request(verb::get, "/api/v1/admin/users?offset=2", "", root_));
    auto r = json::parse(rest.body()).as_object();
    ASSERT_EQ(r.at("users").as_array().size(), 1u);
    EXPECT_EQ(r.at("users").as_array()[0].at("username").as_string(), "root");
    auto bad = run(request(verb::get, "/api/v1/admin/users?limit=101", "", root_));
    EXPECT_EQ(bad.result_int(), 400u);
    EXPECT_EQ(run(request(verb::post, "/api/v1/admin/users", "{}", root_)).result_int(), 405u);
}

TEST_F(AdminRoutesTest, DisableEndsLoginsAndEnableAllowsLoginAgain) {
    auto res = post("/api/v1/admin/users/alice/disable", root_);
    ASSERT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), R"({"ok":true})");
    EXPECT_EQ(sessions_.count_for_user(id_of("alice")), 0u);
    EXPECT_EQ(run(request(verb::get, "/api/v1/me", "", alice_)).result_int(), 401u);
    EXPECT_TRUE(users_->find_by_name("alice")->disabled);
    const std::string body = R"({"username":"alice","password":"correct horse battery"})";
    EXPECT_EQ(run(request(verb::post, "/api/v1/session", body)).result_int(), 403u);
    ASSERT_EQ(post("/api/v1/admin/users/alice/enable", root_).result_int(), 200u);
    EXPECT_EQ(run(request(verb::post, "/api/v1/session", body)).result_int(), 200u);
}

TEST_F(AdminRoutesTest, RoleChangeReachesLiveLogins) {
    auto bad = post("/api/v1/admin/users/alice/role", root_, R"({"role":"root"})");
    EXPECT_EQ(bad.result_int(), 400u);
    EXPECT_EQ(error_code(bad), "bad_role");
    EXPECT_EQ(error_code(post("/api/v1/admin/users/alice/role", root_, R"({})")), "bad_role");
    ASSERT_EQ(post("/api/v1/admin/users/alice/role", root_, R"({"role":"moderator"})").result_int(),
              200u);
    auto me = run(request(verb::get, "/api/v1/me", "", alice_));
    EXPECT_EQ(json::parse(me.body()).at("user").at("role").as_string(), "moderator");
    auto live = sessions_.users_logged_in();
    for (const auto& [id, role] : live) {
        if (id == id_of("alice")) {
            EXPECT_EQ(role, store::role::moderator);
        }
    }
    EXPECT_EQ(role_calls_, std::vector<std::int64_t>{id_of("alice")});
}

TEST_F(AdminRoutesTest, EndLoginsCountsThem) {
    const std::string body = R"({"username":"alice","password":"correct horse battery"})";
    ASSERT_EQ(run(request(verb::post, "/api/v1/session", body)).result_int(), 200u);
    auto res = post("/api/v1/admin/users/alice/end-logins", root_);
    ASSERT_EQ(res.result_int(), 200u);
    EXPECT_EQ(json::parse(res.body()).at("ended").to_number<std::int64_t>(), 2);
    EXPECT_EQ(sessions_.count_for_user(id_of("alice")), 0u);
}

TEST_F(AdminRoutesTest, DeleteRemovesTheAccountAndItsLogins) {
    const auto id = id_of("alice");
    ASSERT_EQ(run(request(verb::delete_, "/api/v1/admin/users/alice", "", root_)).result_int(),
              200u);
    EXPECT_FALSE(users_->find_by_name("alice"));
    EXPECT_EQ(sessions_.count_for_user(id), 0u);
    auto again = run(request(verb::delete_, "/api/v1/admin/users/alice", "", root_));
    EXPECT_EQ(again.result_int(), 404u);
    EXPECT_EQ(error_code(again), "unknown_user");
}

TEST_F(AdminRoutesTest, NamesAreCheckedAndUnknownOnesReported) {
    auto bad = post("/api/v1/admin/users/a%20b/disable", root_);
    EXPECT_EQ(bad.result_int(), 400u);
    EXPECT_EQ(error_code(bad), "bad_username");
    EXPECT_EQ(error_code(post("/api/v1/admin/users/x/disable", root_)), "bad_username");
    auto unknown = post("/api/v1/admin/users/nobody/disable", root_);
    EXPECT_EQ(unknown.result_int(), 404u);
    EXPECT_EQ(error_code(unknown), "unknown_user");
    EXPECT_EQ(post("/api/v1/admin/users/alice/explode", root_).result_int(), 404u);
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users/alice/disable", "", root_)).result_int(),
              405u);
}

TEST_F(AdminRoutesTest, SelfAndLastAdminAreRefused) {
    // The only admin: whatever it does to itself would leave no admin.
    auto last = post("/api/v1/admin/users/root/disable", root_);
    EXPECT_EQ(last.result_int(), 409u);
    EXPECT_EQ(error_code(last), "last_admin");
    EXPECT_EQ(error_code(post("/api/v1/admin/users/root/role", root_, R"({"role":"user"})")),
              "last_admin");
    EXPECT_EQ(error_code(run(request(verb::delete_, "/api/v1/admin/users/root", "", root_))),
              "last_admin");
    // With a second admin, the refusal is about acting on oneself.
    ASSERT_TRUE(users_->set_role(id_of("mod"), store::role::admin));
    auto self = post("/api/v1/admin/users/root/disable", root_);
    EXPECT_EQ(self.result_int(), 409u);
    EXPECT_EQ(error_code(self), "self");
    // …and the other admin can be demoted, until it is the last one.
    ASSERT_EQ(post("/api/v1/admin/users/mod/role", root_, R"({"role":"user"})").result_int(), 200u);
    EXPECT_FALSE(users_->find_by_name("root")->disabled);
}

TEST_F(AdminRoutesTest, StateChangesNeedTheSitesOrigin) {
    auto req = request(verb::post, "/api/v1/admin/users/alice/disable", "", root_);
    req.set(beast_http::field::origin, "https://evil.example");
    auto res = run(std::move(req));
    EXPECT_EQ(res.result_int(), 403u);
    EXPECT_EQ(error_code(res), "forbidden_origin");
    EXPECT_FALSE(users_->find_by_name("alice")->disabled);
}

TEST_F(AdminRoutesTest, EachAdminIsRateLimited) {
    admin_routes strict{{2, 0.001, 100}, *users_, clock_};
    ctx_.admin = &strict;
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "", root_)).result_int(), 200u);
    EXPECT_EQ(run(request(verb::get, "/api/v1/admin/users", "", root_)).result_int(), 200u);
    auto third = run(request(verb::get, "/api/v1/admin/users", "", root_));
    EXPECT_EQ(third.result_int(), 429u);
    EXPECT_FALSE(third[beast_http::field::retry_after].empty());
}

TEST_F(AdminRoutesTest, RoleChangeReachesEveryLiveLoginAndRefusesLoginsInFlight) {
    const auto mod = id_of("mod");
    const std::string body = R"({"username":"mod","password":"correct horse battery"})";
    ASSERT_EQ(run(request(verb::post, "/api/v1/session", body)).result_int(), 200u);
    // A login of mod that read the account (role moderator) before the change below.
    const auto ticket = sessions_.begin_login();
    ASSERT_EQ(post("/api/v1/admin/users/mod/role", root_, R"({"role":"user"})").result_int(), 200u);
    for (const auto& [id, role] : sessions_.users_logged_in()) {
        if (id == mod) {
            EXPECT_EQ(role, store::role::user);
        }
    }
    // It may not make a session with the role it read: it is refused, and the login is retried
    // against the account as stored now.
    auto stale = sessions_.create(mod, "mod", store::role::moderator, ticket);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error(), auth::login_refusal::ended_meanwhile);
    auto again = run(request(verb::post, "/api/v1/session", body));
    ASSERT_EQ(again.result_int(), 200u);
    EXPECT_EQ(json::parse(again.body()).at("user").at("role").as_string(), "user");
}

// A user store that, once armed, demotes an account right after the admin API's first read of
// it: the request passed the role check, and the change must still be refused.
class demoting_store final : public store::user_store {
  public:
    explicit demoting_store(store::user_store& inner) : inner_(inner) {}
    std::int64_t demote_after_read = 0;

    core::result<store::user_record, store::store_error> create(const store::new_user& u) override {
        return inner_.create(u);
    }
    core::result<store::user_record, store::store_error> find_by_name(
        std::string_view name) override {
        return inner_.find_by_name(name);
    }
    core::result<store::user_record, store::store_error> find_by_id(std::int64_t id) override {
        auto found = inner_.find_by_id(id);
        if (id == demote_after_read) {
            demote_after_read = 0;
            EXPECT_TRUE(inner_.set_role(id, store::role::user));
        }
        return found;
    }
    core::status<store::store_error> set_password(std::int64_t id, std::string_view h,
                                                  int v) override {
        return inner_.set_password(id, h, v);
    }
    core::status<store::store_error> set_role(std::int64_t id, store::role r) override {
        return inner_.set_role(id, r);
    }
    core::status<store::store_error> set_disabled(std::int64_t id, bool d) override {
        return inner_.set_disabled(id, d);
    }
    core::status<store::store_error> remove(std::int64_t id) override { return inner_.remove(id); }
    core::result<std::vector<store::user_record>, store::store_error> list() override {
        return inner_.list();
    }
    core::result<store::user_page, store::store_error> list_page(std::int64_t o,
                                                                 std::int64_t l) override {
        return inner_.list_page(o, l);
    }
    core::result<std::int64_t, store::store_error> data_version() override {
        return inner_.data_version();
    }
    core::result<std::int64_t, store::store_error> users_version() override {
        return inner_.users_version();
    }
    core::result<std::size_t, store::store_error> count_enabled_admins() override {
        return inner_.count_enabled_admins();
    }

  private:
    store::user_store& inner_;
};

TEST_F(AdminRoutesTest, AnAdminDemotedAfterTheCheckChangesNothing) {
    ASSERT_TRUE(users_->set_role(id_of("mod"), store::role::admin));
    demoting_store demoting{*users_};
    admin_routes routes{{1000, 1000, 100}, demoting, clock_};
    ctx_.admin = &routes;
    demoting.demote_after_read = id_of("mod");
    auto res = post("/api/v1/admin/users/alice/disable", mod_);
    EXPECT_EQ(res.result_int(), 403u);
    EXPECT_EQ(error_code(res), "forbidden");
    EXPECT_FALSE(users_->find_by_name("alice")->disabled);
    EXPECT_EQ(sessions_.count_for_user(id_of("alice")), 1u);
}

TEST_F(AdminRoutesTest, TheUserListCarriesNoPasswordHash) {
    auto page = users_->list_page(0, 10);
    ASSERT_TRUE(page);
    ASSERT_FALSE(page->users.empty());
    for (const auto& u : page->users) EXPECT_TRUE(u.password_hash.empty()) << u.username;
    EXPECT_EQ(*users_->count_enabled_admins(), 1u);
}

// The watch against two connections to one SQLite file: the server's, and the command line's.
class AccountWatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto server = store::open_sqlite_store(dir_.path() / "users.db");
        auto cli = store::open_sqlite_store(dir_.path() / "users.db");
        ASSERT_TRUE(server && cli);
        server_ = std::move(server).value();
        cli_ = std::move(cli).value();
        watch_ = std::make_unique<account_watch>(*server_, sessions_);
        alice_ = server_->create({"alice", "argon2id$x", 1, store::role::user, 0})->userid;
        bob_ = server_->create({"bob", "argon2id$x", 1, store::role::user, 0})->userid;
        sessions_.on_ended([this](const std::string& id) { ended_.push_back(id); });
        a1_ = sessions_.create(alice_, "alice", store::role::user).session.id;
        sessions_.create(alice_, "alice", store::role::user);
        sessions_.create(bob_, "bob", store::role::user);
        watch_->on_role_changed(
            [this](std::int64_t id, store::role r) { roles_.emplace_back(id, r); });
        EXPECT_EQ(watch_->poll().users_read, 2u);  // both are new to it
    }

    core::testing::temp_dir dir_;
    core::manual_clock clock_;
    std::unique_ptr<store::user_store> server_, cli_;
    auth::login_sessions sessions_{{}, clock_};
    std::unique_ptr<account_watch> watch_;
    std::int64_t alice_ = 0, bob_ = 0;
    std::string a1_;
    std::vector<std::string> ended_;
    std::vector<std::pair<std::int64_t, store::role>> roles_;
};

TEST_F(AccountWatchTest, NothingChangedReadsNothing) {
    auto pass = watch_->poll();
    EXPECT_FALSE(pass.store_changed);
    EXPECT_EQ(pass.users_read, 0u);
}

TEST_F(AccountWatchTest, DisabledElsewhereEndsItsLogins) {
    ASSERT_TRUE(cli_->set_disabled(alice_, true));
    auto pass = watch_->poll();
    EXPECT_TRUE(pass.store_changed);
    EXPECT_EQ(pass.logins_ended, 2u);
    EXPECT_EQ(sessions_.count_for_user(alice_), 0u);
    EXPECT_EQ(sessions_.count_for_user(bob_), 1u);
    EXPECT_EQ(ended_.size(), 2u);
    EXPECT_FALSE(sessions_.find(a1_));
}

TEST_F(AccountWatchTest, DeletedElsewhereEndsItsLogins) {
    ASSERT_TRUE(cli_->remove(bob_));
    EXPECT_EQ(watch_->poll().logins_ended, 1u);
    EXPECT_EQ(sessions_.count_for_user(bob_), 0u);
}

TEST_F(AccountWatchTest, RoleChangedElsewhereReachesLiveLogins) {
    ASSERT_TRUE(cli_->set_role(bob_, store::role::moderator));
    EXPECT_EQ(watch_->poll().roles_updated, 1u);
    EXPECT_EQ(sessions_.find(a1_)->role, store::role::user);
    for (const auto& [id, role] : sessions_.users_logged_in()) {
        EXPECT_EQ(role, id == bob_ ? store::role::moderator : store::role::user);
    }
    ASSERT_EQ(roles_.size(), 1u);
    EXPECT_EQ(roles_[0].first, bob_);
}

TEST_F(AccountWatchTest, ALoginAfterTheChangeIsReadToo) {
    // A login that checked its password before the change and made its session after the watch
    // saw the change: its user is new to the watch, so it is read at the next pass.
    auto carol = server_->create({"carol", "argon2id$x", 1, store::role::user, 0})->userid;
    ASSERT_TRUE(cli_->set_disabled(carol, true));
    EXPECT_TRUE(watch_->poll().store_changed);
    sessions_.create(carol, "carol", store::role::user);
    auto pass = watch_->poll();
    EXPECT_FALSE(pass.store_changed);
    EXPECT_EQ(pass.users_read, 1u);
    EXPECT_EQ(pass.logins_ended, 1u);
}

TEST_F(AccountWatchTest, OtherTablesChangingReadsNoUser) {
    // The bans (and the SIP devices) are written on connections of their own to the same file:
    // data_version moves, the users' change counter does not, and no user is read again.
    auto bans = store::open_sqlite_ban_store(dir_.path() / "users.db");
    ASSERT_TRUE(bans);
    ASSERT_TRUE((*bans)->put({bob_, 4'000'000'000, alice_, 1, {}, {}}));
    auto pass = watch_->poll();
    EXPECT_FALSE(pass.store_changed);
    EXPECT_EQ(pass.users_read, 0u);
    ASSERT_TRUE((*bans)->remove(bob_));
    EXPECT_EQ(watch_->poll().users_read, 0u);
    // A change to users still counts.
    ASSERT_TRUE(cli_->set_role(bob_, store::role::moderator));
    pass = watch_->poll();
    EXPECT_TRUE(pass.store_changed);
    EXPECT_EQ(pass.roles_updated, 1u);
}

TEST_F(AccountWatchTest, ARoleChangedElsewhereRefusesLoginsInFlight) {
    // A login of alice read her role before the command line changed it.
    const auto ticket = sessions_.begin_login();
    ASSERT_TRUE(cli_->set_role(alice_, store::role::moderator));
    EXPECT_EQ(watch_->poll().roles_updated, 1u);
    auto stale = sessions_.create(alice_, "alice", store::role::user, ticket);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error(), auth::login_refusal::ended_meanwhile);
}

TEST_F(AccountWatchTest, EverySessionOfAUserIsLookedAt) {
    ASSERT_TRUE(cli_->set_role(alice_, store::role::moderator));
    EXPECT_EQ(watch_->poll().roles_updated, 1u);
    // A session carrying the old role next to the updated ones, with nothing changed in the
    // store since: the watch sees the two roles and reads alice again.
    auto stale = sessions_.create(alice_, "alice", store::role::user).session.id;
    auto pass = watch_->poll();
    EXPECT_EQ(pass.users_read, 1u);
    EXPECT_EQ(pass.roles_updated, 1u);
    EXPECT_EQ(sessions_.find(stale)->role, store::role::moderator);
}

TEST_F(AccountWatchTest, TheThreadNoticesWithinAFewPolls) {
    account_watch running{*server_, sessions_, std::chrono::milliseconds(10)};
    running.start();
    ASSERT_TRUE(cli_->set_disabled(bob_, true));
    // Wait for the condition (bounded), never for a duration.
    for (int i = 0; i < 1000 && sessions_.count_for_user(bob_) != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    running.stop();
    EXPECT_EQ(sessions_.count_for_user(bob_), 0u);
}

}  // namespace
}  // namespace secms::admin

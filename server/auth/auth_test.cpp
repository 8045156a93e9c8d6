#include <gtest/gtest.h>

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "server/auth/accounts.hpp"
#include "server/auth/credentials.hpp"
#include "server/auth/login_sessions.hpp"
#include "server/auth/login_throttle.hpp"
#include "server/auth/password_hasher.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/hsm/softhsm.hpp"

namespace secms::auth {
namespace {

using namespace std::chrono_literals;

TEST(UsernameRules, AcceptsAndRefuses) {
    EXPECT_TRUE(check_username("alice"));
    EXPECT_TRUE(check_username("Bob.Smith_2-x"));
    EXPECT_TRUE(check_username("abc"));
    EXPECT_TRUE(check_username(std::string(32, 'a')));
    EXPECT_FALSE(check_username("ab"));
    EXPECT_FALSE(check_username(std::string(33, 'a')));
    EXPECT_FALSE(check_username("_alice"));
    EXPECT_FALSE(check_username(".alice"));
    EXPECT_FALSE(check_username("al ice"));
    EXPECT_FALSE(check_username("al<ice>"));
    EXPECT_FALSE(
        check_username("ali\xC3\xA7"
                       "e"));  // non-ASCII look-alikes are refused
    EXPECT_FALSE(check_username(std::string("ali\0ce", 6)));
    EXPECT_EQ(check_username("a").error(), auth_error::invalid_username);
}

TEST(UsernameRules, KeyIsCaseInsensitive) {
    EXPECT_EQ(username_key("Alice.B"), "alice.b");
    EXPECT_EQ(username_key("ALICE"), username_key("alice"));
}

TEST(PasswordRules, LengthInCodePoints) {
    EXPECT_TRUE(check_password("0123456789"));
    EXPECT_FALSE(check_password("012345678"));
    EXPECT_TRUE(check_password(std::string(256, 'x')));
    EXPECT_FALSE(check_password(std::string(257, 'x')));
    // Ten two-byte characters are ten characters, not twenty.
    std::string accents;
    for (int i = 0; i < 10; ++i) accents += "\xC3\xA9";
    EXPECT_TRUE(check_password(accents));
    EXPECT_FALSE(check_password(accents.substr(0, 18)));  // nine characters
    EXPECT_EQ(check_password("short").error(), auth_error::invalid_password);
}

TEST(PasswordRules, RefusesMalformedUtf8) {
    EXPECT_FALSE(check_password("0123456789\xC3"));          // truncated
    EXPECT_FALSE(check_password("0123456789\xC0\xAF"));      // overlong
    EXPECT_FALSE(check_password("0123456789\xED\xA0\x80"));  // surrogate
    EXPECT_FALSE(
        check_password(std::string("01234\0"
                                   "56789",
                                   11)));  // NUL
}

TEST(PasswordHasher, HashAndVerifyWithMemoryPepper) {
    auto keys = hsm::make_memory_key_store();
    password_hasher hasher(*keys, {});
    core::secret_string pw("correct horse battery");
    auto h = hasher.hash(pw);
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->encoded.starts_with("$secms-argon2id-hmac$v=19$m=19456,t=2,p=1$"));
    EXPECT_EQ(h->encoded.find("correct horse"), std::string::npos);
    EXPECT_TRUE(*hasher.verify(pw, h->encoded, h->pepper_version));
    EXPECT_FALSE(*hasher.verify(core::secret_string("correct horse batterY"), h->encoded,
                                h->pepper_version));
    // Two hashes of one password differ (random salt).
    EXPECT_NE(hasher.hash(pw)->encoded, h->encoded);
    EXPECT_FALSE(hasher.needs_rehash(h->encoded, h->pepper_version));
}

TEST(PasswordHasher, TamperedOrForeignHashNeverVerifies) {
    auto keys = hsm::make_memory_key_store();
    password_hasher hasher(*keys, {});
    core::secret_string pw("correct horse battery");
    auto h = hasher.hash(pw);
    ASSERT_TRUE(h);
    std::string flipped = h->encoded;
    flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(*hasher.verify(pw, flipped, 1));
    EXPECT_FALSE(*hasher.verify(pw, "", 1));
    EXPECT_FALSE(*hasher.verify(pw, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", 1));
    // Parameters below the minimum or absurdly high are refused, not computed.
    std::string weak = h->encoded;
    weak.replace(weak.find("m=19456"), 7, "m=1024");
    EXPECT_FALSE(*hasher.verify(pw, weak, 1));
    EXPECT_TRUE(hasher.needs_rehash(weak, 1));
    // The same hash under another pepper does not verify: the token's key is part of the secret.
    auto other_keys = hsm::make_memory_key_store();
    password_hasher other(*other_keys, {});
    EXPECT_FALSE(*other.verify(pw, h->encoded, h->pepper_version));
}

TEST(PasswordHasher, MinimumParameters) {
    EXPECT_TRUE(meets_minimum({19 * 1024, 2}));
    EXPECT_FALSE(meets_minimum({19 * 1024 - 1, 2}));
    EXPECT_FALSE(meets_minimum({64 * 1024, 1}));
}

// The pepper lives in a real SoftHSM2 token, as in production.
TEST(PasswordHasher, HashAndVerifyWithSoftHsmPepper) {
    auto dir =
        std::filesystem::temp_directory_path() / ("secms-auth-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto conf = hsm::prepare_softhsm(dir);
    ASSERT_TRUE(conf);
    ::setenv("SOFTHSM2_CONF", conf->c_str(), 1);
    hsm::token_config cfg;
    cfg.token_label = "secms-auth-test";
    cfg.pin = core::secret_string("user-pin-1234");
    cfg.so_pin = core::secret_string("so-pin-5678");
    std::string encoded;
    {
        auto keys = hsm::open_pkcs11_key_store(cfg);
        ASSERT_TRUE(keys) << hsm::message(keys.error());
        password_hasher hasher(**keys, {});
        auto h = hasher.hash(core::secret_string("correct horse battery"));
        ASSERT_TRUE(h);
        encoded = h->encoded;
        EXPECT_TRUE(*hasher.verify(core::secret_string("correct horse battery"), encoded, 1));
        EXPECT_FALSE(*hasher.verify(core::secret_string("wrong horse battery"), encoded, 1));
    }
    {
        // A restart finds the same pepper key in the token.
        auto keys = hsm::open_pkcs11_key_store(cfg);
        ASSERT_TRUE(keys) << hsm::message(keys.error());
        password_hasher hasher(**keys, {});
        EXPECT_TRUE(*hasher.verify(core::secret_string("correct horse battery"), encoded, 1));
    }
    std::filesystem::remove_all(dir);
}

TEST(RateLimiter, BurstThenRefill) {
    core::manual_clock clock;
    rate_limiter limiter({3, 6, 100}, clock);  // burst 3, one token every 10 s
    EXPECT_FALSE(limiter.acquire("1.2.3.4"));
    EXPECT_FALSE(limiter.acquire("1.2.3.4"));
    EXPECT_FALSE(limiter.acquire("1.2.3.4"));
    auto wait = limiter.acquire("1.2.3.4");
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 10s);
    EXPECT_FALSE(limiter.acquire("5.6.7.8"));  // other keys are independent
    clock.advance(10s);
    EXPECT_FALSE(limiter.acquire("1.2.3.4"));
    EXPECT_TRUE(limiter.acquire("1.2.3.4"));
    limiter.reset("1.2.3.4");
    EXPECT_FALSE(limiter.acquire("1.2.3.4"));
}

TEST(RateLimiter, MemoryIsBounded) {
    core::manual_clock clock;
    rate_limiter limiter({1, 1, 50}, clock);
    for (int i = 0; i < 1000; ++i) (void)limiter.acquire("key" + std::to_string(i));
    EXPECT_LE(limiter.size(), 50u);
}

TEST(LoginSessions, CreateTouchEnd) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 4}, clock);
    std::vector<std::string> ended;
    sessions.on_ended([&](const std::string& id) { ended.push_back(id); });
    auto login = sessions.create(7, "alice", store::role::user);
    EXPECT_GE(login.cookie_token.size(), 43u);        // 256 bits
    EXPECT_NE(login.session.id, login.cookie_token);  // the server keeps only a hash
    auto s = sessions.touch(login.cookie_token);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->userid, 7);
    EXPECT_FALSE(sessions.touch("not-a-token"));
    EXPECT_TRUE(sessions.end(login.cookie_token));
    EXPECT_FALSE(sessions.touch(login.cookie_token));
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0], login.session.id);
    // Every login gets a new token.
    EXPECT_NE(sessions.create(7, "alice", store::role::user).cookie_token, login.cookie_token);
}

TEST(LoginSessions, IdleAndAbsoluteTimeouts) {
    core::manual_clock clock;
    login_sessions sessions({30min, 2h, 100, 4}, clock);
    auto a = sessions.create(1, "a", store::role::user);
    clock.advance(31min);
    EXPECT_FALSE(sessions.touch(a.cookie_token));  // idle
    auto b = sessions.create(1, "a", store::role::user);
    for (int i = 0; i < 4; ++i) {  // active every 25 min: never idle
        clock.advance(25min);
        EXPECT_TRUE(sessions.touch(b.cookie_token)) << i;
    }
    clock.advance(25min);                          // 125 min since creation
    EXPECT_FALSE(sessions.touch(b.cookie_token));  // absolute
}

TEST(LoginSessions, RefreshByIdKeepsAWebSocketLoginAlive) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 4}, clock);
    auto a = sessions.create(1, "a", store::role::user);
    clock.advance(25min);
    EXPECT_TRUE(sessions.refresh(a.session.id));
    clock.advance(25min);  // 50 min since the cookie was last used, 25 since the socket was
    EXPECT_TRUE(sessions.touch(a.cookie_token));
    clock.advance(31min);
    EXPECT_FALSE(sessions.refresh(a.session.id));
    EXPECT_FALSE(sessions.refresh("unknown"));
}

TEST(LoginSessions, EndAllForUserKeepsOne) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 8}, clock);
    auto a = sessions.create(1, "a", store::role::user);
    auto b = sessions.create(1, "a", store::role::user);
    auto c = sessions.create(2, "c", store::role::user);
    sessions.end_all_for_user(1, a.session.id);
    EXPECT_TRUE(sessions.touch(a.cookie_token));
    EXPECT_FALSE(sessions.touch(b.cookie_token));
    EXPECT_TRUE(sessions.touch(c.cookie_token));
}

TEST(LoginSessions, ARoleChangeReachesEverySessionAndRefusesOlderTickets) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 8}, clock);
    const auto before = sessions.begin_login();
    auto a = sessions.create(1, "a", store::role::moderator);
    auto b = sessions.create(1, "a", store::role::moderator);
    // A session with another role beside them (made across a change) is listed on its own.
    sessions.create(1, "a", store::role::user);
    auto live = sessions.users_logged_in();
    std::sort(live.begin(), live.end());
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0], std::make_pair(std::int64_t{1}, store::role::user));
    EXPECT_EQ(live[1], std::make_pair(std::int64_t{1}, store::role::moderator));
    sessions.update_role(1, store::role::user);
    EXPECT_EQ(sessions.find(a.session.id)->role, store::role::user);
    EXPECT_EQ(sessions.find(b.session.id)->role, store::role::user);
    ASSERT_EQ(sessions.users_logged_in().size(), 1u);
    // A login that read the role before the change is refused; one after it is not.
    auto stale = sessions.create(1, "a", store::role::moderator, before);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error(), login_refusal::ended_meanwhile);
    EXPECT_TRUE(sessions.create(1, "a", store::role::user, sessions.begin_login()));
    // Also for a user with no session yet.
    const auto other = sessions.begin_login();
    sessions.update_role(2, store::role::admin);
    EXPECT_FALSE(sessions.create(2, "b", store::role::user, other));
}

TEST(LoginSessions, CountsAndListsTheUsersLoggedIn) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 8}, clock);
    sessions.create(1, "a", store::role::user);
    sessions.create(1, "a", store::role::user);
    sessions.create(2, "c", store::role::moderator);
    EXPECT_EQ(sessions.count_for_user(1), 2u);
    EXPECT_EQ(sessions.count_for_user(3), 0u);
    auto live = sessions.users_logged_in();
    std::sort(live.begin(), live.end());
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0], std::make_pair(std::int64_t{1}, store::role::user));
    EXPECT_EQ(live[1], std::make_pair(std::int64_t{2}, store::role::moderator));
    sessions.update_role(1, store::role::admin);
    EXPECT_EQ(sessions.users_logged_in().size(), 2u);
    EXPECT_EQ(sessions.end_all_for_user(1), 2u);
    EXPECT_EQ(sessions.count_for_user(1), 0u);
    EXPECT_EQ(sessions.end_all_for_user(1), 0u);
    clock.advance(31min);  // expired, not yet swept: not counted
    EXPECT_EQ(sessions.count_for_user(2), 0u);
}

TEST(LoginSessions, PerUserLimitDropsOldest) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 2}, clock);
    auto a = sessions.create(1, "a", store::role::user);
    clock.advance(1s);
    auto b = sessions.create(1, "a", store::role::user);
    clock.advance(1s);
    auto c = sessions.create(1, "a", store::role::user);
    EXPECT_FALSE(sessions.touch(a.cookie_token));
    EXPECT_TRUE(sessions.touch(b.cookie_token));
    EXPECT_TRUE(sessions.touch(c.cookie_token));
}

// A full table refuses the new login: many accounts logging in must not log anyone else out.
TEST(LoginSessions, FullTableRefusesInsteadOfEvictingAnotherUsersLogin) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 3, 4}, clock);
    std::vector<std::string> ended;
    sessions.on_ended([&](const std::string& id) { ended.push_back(id); });
    auto victim = sessions.create(1, "victim", store::role::user);
    clock.advance(1s);
    (void)sessions.create(2, "bot1", store::role::user);
    (void)sessions.create(3, "bot2", store::role::user);
    auto refused = sessions.create(4, "bot3", store::role::user, sessions.begin_login());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), login_refusal::table_full);
    EXPECT_EQ(sessions.size(), 3u);
    EXPECT_TRUE(ended.empty());
    EXPECT_TRUE(sessions.touch(victim.cookie_token));  // the least recently used is still here
    // A user at its own cap makes room from its own logins, even in a full table.
    login_sessions own({30min, 12h, 2, 2}, clock);
    auto first = own.create(5, "e", store::role::user);
    clock.advance(1s);
    auto second = own.create(5, "e", store::role::user);
    auto third = own.create(5, "e", store::role::user, own.begin_login());
    ASSERT_TRUE(third);
    EXPECT_FALSE(own.touch(first.cookie_token));
    EXPECT_TRUE(own.touch(second.cookie_token));
}

TEST(LoginSessions, FullTableDropsExpiredLoginsFirst) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 2, 4}, clock);
    std::vector<std::string> ended;
    sessions.on_ended([&](const std::string& id) { ended.push_back(id); });
    auto stale = sessions.create(1, "a", store::role::user);
    clock.advance(20min);
    auto live = sessions.create(2, "b", store::role::user);
    clock.advance(11min);  // the first is idle past 30 min, the second is not
    auto fresh = sessions.create(3, "c", store::role::user, sessions.begin_login());
    ASSERT_TRUE(fresh);
    EXPECT_EQ(ended, (std::vector<std::string>{stale.session.id}));
    EXPECT_TRUE(sessions.touch(live.cookie_token));
    EXPECT_TRUE(sessions.touch(fresh->cookie_token));
}

// Logins are indexed by account: ending, role changes and the per-user cap find the account's
// logins through the index, which every way out of the table keeps in step.
TEST(LoginSessions, PerUserIndexFollowsEveryRemoval) {
    core::manual_clock clock;
    login_sessions sessions({30min, 12h, 100, 2}, clock);
    auto a = sessions.create(1, "a", store::role::user);
    EXPECT_TRUE(sessions.end(a.cookie_token));
    auto b = sessions.create(1, "a", store::role::user);
    clock.advance(31min);
    sessions.sweep();
    EXPECT_EQ(sessions.size(), 0u);
    auto c = sessions.create(1, "a", store::role::user);
    clock.advance(1s);
    auto d = sessions.create(1, "a", store::role::user);
    sessions.update_role(1, store::role::admin);
    EXPECT_EQ(sessions.find(c.session.id)->role, store::role::admin);
    EXPECT_EQ(sessions.find(d.session.id)->role, store::role::admin);
    auto e = sessions.create(1, "a", store::role::user);  // the cap of 2: c, the oldest, goes
    EXPECT_FALSE(sessions.find(c.session.id));
    sessions.end_all_for_user(1, e.session.id);
    EXPECT_FALSE(sessions.find(d.session.id));
    EXPECT_TRUE(sessions.find(e.session.id));
    EXPECT_FALSE(sessions.find(b.session.id));
    EXPECT_EQ(sessions.size(), 1u);
}

// Only a wrong password counts: an attempt that ends otherwise (a weak new password, an outage)
// is given back, and the wrong guesses before it still count.
TEST(LoginThrottle, ReleasedAttemptCostsNothingAndKeepsEarlierFailures) {
    core::manual_clock clock;
    throttle_settings s;
    s.free_failures = 2;
    login_throttle throttle(s, clock);
    for (int i = 0; i < 20; ++i) {
        ASSERT_FALSE(throttle.begin("alice", "session:x").refused_for) << i;
        throttle.released("alice", "session:x");
    }
    EXPECT_EQ(throttle.size(), 0u);
    EXPECT_FALSE(throttle.begin("alice", "session:x").refused_for);  // a wrong password
    throttle.failed("alice");
    EXPECT_FALSE(throttle.begin("alice", "session:x").refused_for);  // a weak new password
    throttle.released("alice", "session:x");
    EXPECT_FALSE(throttle.begin("alice", "session:x").refused_for);  // a second wrong password
    throttle.failed("alice");
    EXPECT_TRUE(throttle.begin("alice", "session:x").refused_for);  // two failures: wait
}

class AccountServiceTest : public ::testing::Test {
  protected:
    core::manual_clock clock_;
    std::unique_ptr<store::user_store> users_ = store::make_memory_store();
    std::unique_ptr<hsm::key_store> keys_ = hsm::make_memory_key_store();
    password_hasher hasher_{*keys_, {}};
    account_service accounts_{*users_, hasher_, clock_};
};

TEST_F(AccountServiceTest, RegisterAndAuthenticate) {
    auto alice = accounts_.register_user("Alice", core::secret_string("correct horse battery"));
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->username, "Alice");
    auto again = accounts_.register_user("alice", core::secret_string("another password!"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), auth_error::username_taken);
    auto ok = accounts_.authenticate("alice", core::secret_string("correct horse battery"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->userid, alice->userid);
    EXPECT_EQ(accounts_.authenticate("alice", core::secret_string("wrong horse battery")).error(),
              auth_error::invalid_credentials);
    EXPECT_EQ(
        accounts_.authenticate("nobody", core::secret_string("correct horse battery")).error(),
        auth_error::invalid_credentials);
    EXPECT_EQ(accounts_.authenticate("<bad name>", core::secret_string("x")).error(),
              auth_error::invalid_credentials);
}

TEST_F(AccountServiceTest, RulesAreChecked) {
    EXPECT_EQ(accounts_.register_user("x", core::secret_string("correct horse battery")).error(),
              auth_error::invalid_username);
    EXPECT_EQ(accounts_.register_user("bob", core::secret_string("short")).error(),
              auth_error::invalid_password);
}

TEST_F(AccountServiceTest, ChangePasswordNeedsCurrent) {
    auto bob = accounts_.register_user("bob", core::secret_string("first password"));
    ASSERT_TRUE(bob);
    EXPECT_EQ(accounts_
                  .change_password(bob->userid, core::secret_string("not the password"),
                                   core::secret_string("second password"))
                  .error(),
              auth_error::invalid_credentials);
    EXPECT_EQ(accounts_
                  .change_password(bob->userid, core::secret_string("first password"),
                                   core::secret_string("short"))
                  .error(),
              auth_error::invalid_password);
    EXPECT_TRUE(accounts_.change_password(bob->userid, core::secret_string("first password"),
                                          core::secret_string("second password")));
    EXPECT_FALSE(accounts_.authenticate("bob", core::secret_string("first password")));
    EXPECT_TRUE(accounts_.authenticate("bob", core::secret_string("second password")));
}

TEST_F(AccountServiceTest, DeleteNeedsPassword) {
    auto carol = accounts_.register_user("carol", core::secret_string("carol's password"));
    ASSERT_TRUE(carol);
    EXPECT_FALSE(accounts_.delete_account(carol->userid, core::secret_string("wrong password!")));
    EXPECT_TRUE(accounts_.delete_account(carol->userid, core::secret_string("carol's password")));
    EXPECT_FALSE(accounts_.authenticate("carol", core::secret_string("carol's password")));
}

TEST_F(AccountServiceTest, DisabledAccountIsRefusedOnlyWithTheRightPassword) {
    ASSERT_TRUE(accounts_.register_user("dave", core::secret_string("dave's password")));
    ASSERT_TRUE(accounts_.admin_set_disabled("dave", true));
    EXPECT_EQ(accounts_.authenticate("dave", core::secret_string("dave's password")).error(),
              auth_error::account_disabled);
    EXPECT_EQ(accounts_.authenticate("dave", core::secret_string("wrong password!")).error(),
              auth_error::invalid_credentials);
}

TEST_F(AccountServiceTest, AdminOperations) {
    ASSERT_TRUE(accounts_.register_user("erin", core::secret_string("erin's password")));
    auto r = accounts_.admin_set_role("ERIN", store::role::moderator);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->role, store::role::moderator);
    EXPECT_TRUE(accounts_.admin_set_password("erin", core::secret_string("a new password")));
    EXPECT_TRUE(accounts_.authenticate("erin", core::secret_string("a new password")));
    EXPECT_EQ(accounts_.list()->size(), 1u);
    EXPECT_TRUE(accounts_.admin_delete("erin"));
    EXPECT_EQ(accounts_.list()->size(), 0u);
    EXPECT_FALSE(accounts_.admin_delete("erin"));
}

}  // namespace
}  // namespace secms::auth

// Regression tests that perform the attacks on logins, sessions and rate limits: chosen-account
// lock-out, huge limiter keys, IPv6 address rotation, a login racing a password change, and a
// WebSocket racing a logout. Timing is forced with fakes, never left to chance.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "server/auth/accounts.hpp"
#include "server/auth/client_address.hpp"
#include "server/auth/login_binding.hpp"
#include "server/auth/login_sessions.hpp"
#include "server/auth/login_throttle.hpp"
#include "server/auth/password_hasher.hpp"
#include "server/auth/rate_limiter.hpp"

namespace secms::auth {
namespace {

using namespace std::chrono_literals;

// ---- (13) one key per client: IPv4 address, IPv6 /64 -------------------------------------------

TEST(ClientAddress, Ipv4IsItsOwnKey) {
    EXPECT_EQ(address_key("203.0.113.7"), "203.0.113.7");
    EXPECT_NE(address_key("203.0.113.7"), address_key("203.0.113.8"));
}

TEST(ClientAddress, Ipv6CountsByItsSlash64) {
    // Rotating the interface identifier (2^64 addresses of one subscriber) gives one key.
    EXPECT_EQ(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    EXPECT_EQ(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:2:ffff:ffff:ffff:fffe"));
    EXPECT_EQ(address_key("2001:DB8:1:2::1"), address_key("2001:db8:1:2:0:0:0:9"));
    // Another /64 is another client.
    EXPECT_NE(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
    EXPECT_EQ(address_key("fe80::1%eth0"), "fe80::/64");
}

TEST(ClientAddress, MappedIpv4IsTheIpv4Address) {
    EXPECT_EQ(address_key("::ffff:198.51.100.4"), "198.51.100.4");
    EXPECT_EQ(address_key("::ffff:c633:6404"), "198.51.100.4");
}

TEST(ClientAddress, NonAddressesAreBounded) {
    EXPECT_EQ(address_key("not an address"), "not an address");
    EXPECT_LE(address_key(std::string(100'000, 'x')).size(), 64u);
}

// ---- (9) chosen keys cannot grow the tables -----------------------------------------------------

TEST(RateLimiter, HugeDistinctKeysKeepTheTableBounded) {
    core::manual_clock clock;
    rate_limiter limiter({5, 5, 1000}, clock);
    std::string name(64 * 1024, 'a');
    for (int i = 0; i < 10'000; ++i) {
        std::string suffix = std::to_string(i);
        name.replace(name.size() - suffix.size(), suffix.size(), suffix);
        (void)limiter.acquire(name);
    }
    EXPECT_EQ(limiter.size(), 1000u);
    // What a bucket keeps of its key is a fixed-size hash, not the 64 KiB name: 1000 buckets hold
    // 16 KB of key material where the names would have been 64 MB.
    EXPECT_EQ(rate_limiter::key_bytes, 16u);
    EXPECT_LE(limiter.size() * rate_limiter::key_bytes, 16'000u);
}

TEST(LoginThrottle, HugeDistinctKeysKeepTheTableBounded) {
    core::manual_clock clock;
    throttle_settings s;
    s.max_keys = 500;
    login_throttle throttle(s, clock);
    std::string name(64 * 1024, 'b');
    for (int i = 0; i < 10'000; ++i) {
        std::string suffix = std::to_string(i);
        name.replace(name.size() - suffix.size(), suffix.size(), suffix);
        (void)throttle.begin(name, "192.0.2.1");
        throttle.failed(name);
    }
    EXPECT_LE(throttle.size(), 1000u);  // 500 pairs + 500 accounts
    EXPECT_EQ(login_throttle::key_bytes, 16u);
}

TEST(LimiterKey, PartsAreFramed) {
    EXPECT_NE(make_limiter_key("ab", "c"), make_limiter_key("a", "bc"));
    EXPECT_EQ(make_limiter_key("alice", "192.0.2.1"), make_limiter_key("alice", "192.0.2.1"));
    EXPECT_NE(make_limiter_key("alice"), make_limiter_key("alice", ""));
}

// ---- (5) slow the guesser, never lock the owner out ---------------------------------------------

TEST(LoginThrottle, FailuresFromOneAddressNeverHoldBackAnother) {
    core::manual_clock clock;
    throttle_settings s;  // 5 free failures, then 1 s, 2 s, 4 s … capped at 300 s
    login_throttle throttle(s, clock);
    for (int i = 0; i < 5; ++i) {
        auto d = throttle.begin("victim", "198.51.100.66");
        ASSERT_FALSE(d.refused_for) << i;
        throttle.failed("victim");
    }
    auto refused = throttle.begin("victim", "198.51.100.66");
    ASSERT_TRUE(refused.refused_for);
    EXPECT_EQ(*refused.refused_for, 1s);
    // The owner, elsewhere, is not even slowed.
    auto owner = throttle.begin("victim", "192.0.2.10");
    EXPECT_FALSE(owner.refused_for);
    EXPECT_EQ(owner.slow_down, 0ms);
    throttle.succeeded("victim", "192.0.2.10");
    // A proven session (password change) is its own client too.
    EXPECT_FALSE(throttle.begin("victim", "session:abc").refused_for);
}

TEST(LoginThrottle, DelayDoublesAndIsCapped) {
    core::manual_clock clock;
    throttle_settings s;
    s.free_failures = 2;
    s.max_delay = 10s;
    login_throttle throttle(s, clock);
    auto guess = [&] {
        auto d = throttle.begin("victim", "198.51.100.66");
        if (!d.refused_for) throttle.failed("victim");
        return d.refused_for;
    };
    EXPECT_FALSE(guess());
    EXPECT_FALSE(guess());
    std::vector<std::chrono::seconds> waits;
    for (int i = 0; i < 6; ++i) {
        auto w = guess();
        ASSERT_TRUE(w) << i;
        waits.push_back(*w);
        clock.advance(*w);
        ASSERT_FALSE(guess()) << i;  // allowed once the delay has passed
    }
    EXPECT_EQ(waits, (std::vector<std::chrono::seconds>{1s, 2s, 4s, 8s, 10s, 10s}));
}

TEST(LoginThrottle, RightPasswordForgetsTheFailuresOfItsAddressOnly) {
    core::manual_clock clock;
    throttle_settings s;
    s.free_failures = 1;
    login_throttle throttle(s, clock);
    EXPECT_FALSE(throttle.begin("alice", "192.0.2.10").refused_for);
    throttle.failed("alice");
    clock.advance(1s);
    EXPECT_FALSE(throttle.begin("alice", "198.51.100.66").refused_for);
    throttle.failed("alice");
    EXPECT_FALSE(throttle.begin("alice", "192.0.2.10").refused_for);  // its 1 s have passed
    throttle.succeeded("alice", "192.0.2.10");
    EXPECT_FALSE(throttle.begin("alice", "192.0.2.10").refused_for);  // forgotten
    EXPECT_TRUE(throttle.begin("alice", "198.51.100.66").refused_for);
}

TEST(LoginThrottle, ConcurrentGuessesCannotAllPassBeforeTheFirstFails) {
    core::manual_clock clock;
    throttle_settings s;
    s.free_failures = 3;
    login_throttle throttle(s, clock);
    int passed = 0;
    for (int i = 0; i < 50; ++i) {  // 50 requests in flight, none answered yet
        if (!throttle.begin("victim", "198.51.100.66").refused_for) ++passed;
    }
    EXPECT_EQ(passed, 3);
}

TEST(LoginThrottle, AccountCeilingOnlySlows) {
    core::manual_clock clock;
    throttle_settings s;
    s.account_ceiling = 20;
    s.account_slowdown = 700ms;
    login_throttle throttle(s, clock);
    // A botnet: one guess from each of many addresses.
    for (int i = 0; i < 20; ++i) {
        auto d = throttle.begin("victim", "203.0.113." + std::to_string(i));
        ASSERT_FALSE(d.refused_for);
        throttle.failed("victim");
    }
    auto owner = throttle.begin("victim", "192.0.2.10");
    EXPECT_FALSE(owner.refused_for);    // never refused…
    EXPECT_EQ(owner.slow_down, 700ms);  // …only slowed
    EXPECT_EQ(throttle.begin("bystander", "192.0.2.10").slow_down, 0ms);
    clock.advance(s.window + 1s);  // old failures are forgotten
    EXPECT_EQ(throttle.begin("victim", "192.0.2.10").slow_down, 0ms);
}

// ---- (4) a login that read the old hash does not survive a password change ----------------------

// A key store whose next pepper_mac() stops until released: it pauses a login after it has read
// the stored hash and while it verifies it.
class pausable_key_store final : public hsm::key_store {
  public:
    int current_pepper_version() const override { return inner_->current_pepper_version(); }
    core::result<std::array<std::uint8_t, 32>, hsm::hsm_error> pepper_mac(
        int version, std::span<const std::uint8_t> data) override {
        {
            std::unique_lock lock(mutex_);
            if (armed_) {
                armed_ = false;
                paused_ = true;
                changed_.notify_all();
                changed_.wait(lock, [&] { return !paused_; });
            }
        }
        return inner_->pepper_mac(version, data);
    }
    void arm() {
        std::lock_guard lock(mutex_);
        armed_ = true;
    }
    void wait_until_paused() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return paused_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        paused_ = false;
        changed_.notify_all();
    }

  private:
    std::unique_ptr<hsm::key_store> inner_ = hsm::make_memory_key_store();
    std::mutex mutex_;
    std::condition_variable changed_;
    bool armed_ = false;
    bool paused_ = false;
};

TEST(LoginRace, LoginThatVerifiedTheOldHashIsRefusedAfterAPasswordChange) {
    core::manual_clock clock;
    auto users = store::make_memory_store();
    pausable_key_store keys;
    password_hasher hasher(keys, {});
    account_service accounts(*users, hasher, clock);
    login_sessions sessions({}, clock);
    auto alice = accounts.register_user("alice", core::secret_string("old password!!"));
    ASSERT_TRUE(alice);
    auto owner = sessions.create(alice->userid, "alice", store::role::user);

    // The attacker's login: ticket, then read the old hash and verify it (paused inside).
    bool stolen = false;
    bool authenticated = false;
    keys.arm();
    std::thread attacker([&] {
        auto ticket = sessions.begin_login();
        auto user = accounts.authenticate("alice", core::secret_string("old password!!"));
        authenticated = user.has_value();
        if (user) {
            stolen = sessions.create(user->userid, user->username, user->role, ticket).has_value();
        }
    });
    keys.wait_until_paused();
    // Meanwhile the owner changes the password; every other login ends.
    ASSERT_TRUE(accounts.change_password(alice->userid, core::secret_string("old password!!"),
                                         core::secret_string("new password!!")));
    sessions.end_all_for_user(alice->userid, owner.session.id);
    keys.release();
    attacker.join();

    EXPECT_TRUE(authenticated);  // the old hash did match when it was read…
    EXPECT_FALSE(stolen);        // …but no session comes of it
    EXPECT_EQ(sessions.size(), 1u);
    EXPECT_TRUE(sessions.touch(owner.cookie_token));
    // A login started after the change, with the new password, works.
    auto ticket = sessions.begin_login();
    auto fresh = accounts.authenticate("alice", core::secret_string("new password!!"));
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(sessions.create(fresh->userid, fresh->username, fresh->role, ticket));
}

TEST(LoginRace, TicketsAreRefusedWhenTooOldAndMarksAreSweptAfter) {
    core::manual_clock clock;
    login_sessions sessions({}, clock);
    auto ticket = sessions.begin_login();
    sessions.end_all_for_user(9);
    EXPECT_FALSE(sessions.create(9, "nine", store::role::user, ticket));
    EXPECT_TRUE(sessions.create(8, "eight", store::role::user, ticket));  // other users unaffected
    auto later = sessions.begin_login();
    clock.advance(max_login_flight + 1s);
    sessions.sweep();
    EXPECT_FALSE(sessions.create(9, "nine", store::role::user, later));  // too old in flight
    EXPECT_TRUE(sessions.create(9, "nine", store::role::user, sessions.begin_login()));
}

// ---- (3) a WebSocket cannot outlive its login ---------------------------------------------------

// Stands in for the channel hub: sockets registered under their login, closed when it ends.
struct fake_hub {
    std::mutex mutex;
    std::map<std::string, int> online;  // login session id -> sockets joined
    std::map<std::string, int> closed;  // login session id -> close() calls
    void join(const std::string& id) {
        std::lock_guard lock(mutex);
        ++online[id];
    }
    void leave(const std::string& id) {
        std::lock_guard lock(mutex);
        if (--online[id] == 0) online.erase(id);
    }
    void end_login_session(const std::string& id) {
        std::lock_guard lock(mutex);
        if (online.contains(id)) ++closed[id];
    }
    bool survives(const std::string& id) {
        std::lock_guard lock(mutex);
        return online.contains(id) && !closed.contains(id);
    }
};

struct ws_fixture {
    core::manual_clock clock;
    login_sessions sessions{{}, clock};
    fake_hub hub;
    ws_fixture() {
        sessions.on_ended([this](const std::string& id) { hub.end_login_session(id); });
    }
    // What the upgrade does after its login check: join, re-checked. False: the socket closes.
    bool upgrade(const std::string& id) {
        return join_while_logged_in(
            sessions, id, [&] { hub.join(id); }, [&] { hub.leave(id); });
    }
};

TEST(WebSocketLogin, LogoutBetweenCheckAndJoinClosesTheSocket) {
    ws_fixture f;
    auto login = f.sessions.create(1, "alice", store::role::user);
    ASSERT_TRUE(f.sessions.touch(login.cookie_token));  // the check before 101
    f.sessions.end(login.cookie_token);                 // logout lands here
    EXPECT_FALSE(f.upgrade(login.session.id));          // the join: refused
    EXPECT_FALSE(f.hub.survives(login.session.id));
    EXPECT_FALSE(f.hub.online.contains(login.session.id));  // never shown online
}

TEST(WebSocketLogin, LogoutBetweenJoinAndRecheckClosesTheSocket) {
    ws_fixture f;
    auto login = f.sessions.create(1, "alice", store::role::user);
    ASSERT_TRUE(f.sessions.touch(login.cookie_token));
    const std::string id = login.session.id;
    bool joined = join_while_logged_in(
        f.sessions, id,
        [&] {
            f.hub.join(id);
            f.sessions.end(login.cookie_token);  // logout lands right after the join
        },
        [&] { f.hub.leave(id); });
    EXPECT_FALSE(joined);
    EXPECT_FALSE(f.hub.survives(id));
}

TEST(WebSocketLogin, LogoutAfterJoinClosesTheSocket) {
    ws_fixture f;
    auto login = f.sessions.create(1, "alice", store::role::user);
    ASSERT_TRUE(f.upgrade(login.session.id));
    EXPECT_TRUE(f.hub.survives(login.session.id));
    f.sessions.end(login.cookie_token);
    EXPECT_FALSE(f.hub.survives(login.session.id));
    EXPECT_EQ(f.hub.closed[login.session.id], 1);
}

TEST(WebSocketLogin, PasswordChangeAndDeletionCloseSockets) {
    ws_fixture f;
    auto mine = f.sessions.create(1, "alice", store::role::user);
    auto other = f.sessions.create(1, "alice", store::role::user);
    ASSERT_TRUE(f.upgrade(other.session.id));
    f.sessions.end_all_for_user(1, mine.session.id);  // password change from `mine`
    EXPECT_FALSE(f.hub.survives(other.session.id));
    ASSERT_TRUE(f.upgrade(mine.session.id));
    f.sessions.end_all_for_user(1);  // account deletion
    EXPECT_FALSE(f.hub.survives(mine.session.id));
}

TEST(WebSocketLogin, NoSocketSurvivesALogoutRacingTheUpgrade) {
    ws_fixture f;
    int survivors = 0;
    for (int i = 0; i < 300; ++i) {
        auto login = f.sessions.create(1, "alice", store::role::user);
        ASSERT_TRUE(f.sessions.touch(login.cookie_token));
        std::atomic<bool> go{false};
        std::thread logout([&] {
            while (!go) {
            }
            f.sessions.end(login.cookie_token);
        });
        go = true;
        (void)f.upgrade(login.session.id);
        logout.join();
        if (f.hub.survives(login.session.id)) ++survivors;
    }
    EXPECT_EQ(survivors, 0);
}

}  // namespace
}  // namespace secms::auth

// Tests against a real SoftHSM2 token in a fresh directory. SoftHSM2 reads SOFTHSM2_CONF at
// C_Initialize, and the module is finalised when the last key store of the process closes, so
// each test opens one key store at a time and closes it before the next.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/core/secure_bytes.hpp"
#include "server/core/testing/temp_dir.hpp"
#include "server/hsm/key_store.hpp"
#include "server/hsm/pkcs11_module.hpp"
#include "server/hsm/softhsm.hpp"

namespace secms::hsm {
namespace {

namespace fs = std::filesystem;

constexpr const char* softhsm_module = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* user_pin = "user-pin-4711";
constexpr const char* so_pin = "so-pin-0815-different";

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777u;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fresh directory per test, removed afterwards.
class temp_dir : public core::testing::temp_dir {
  public:
    temp_dir() : core::testing::temp_dir("secms-hsm") {}
};

class Pkcs11KeyStore : public ::testing::Test {
  protected:
    void SetUp() override {
        auto conf = prepare_softhsm(dir_.path() / "softhsm");
        ASSERT_TRUE(conf);
        ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf->c_str(), 1), 0);
    }

    token_config config(std::string pin = user_pin) const {
        token_config c;
        c.module_path = softhsm_module;
        c.token_label = "secms-test";
        c.pin = core::secret_string(std::move(pin));
        c.so_pin = core::secret_string(so_pin);
        c.initialise_if_missing = true;
        return c;
    }

    // A lost token is reopened on the very next use: the tests need no back-off waits.
    token_config config_reopening_at_once() const {
        auto c = config();
        c.reopen_first_wait = std::chrono::milliseconds(0);
        c.reopen_longest_wait = std::chrono::milliseconds(0);
        return c;
    }

    std::unique_ptr<key_store> open(const token_config& c) {
        auto store = open_pkcs11_key_store(c);
        if (!store) {
            ADD_FAILURE() << "open_pkcs11_key_store: " << message(store.error());
            return nullptr;
        }
        return std::move(store).value();
    }

    // A user session on the test token straight through PKCS#11, to look at what the key
    // store left in the token.
    detail::pkcs11_session user_session() {
        auto module = detail::pkcs11_module::open(softhsm_module);
        EXPECT_TRUE(module);
        auto slot = (*module)->find_token("secms-test");
        EXPECT_TRUE(slot && *slot);
        auto session = detail::pkcs11_session::open(*module, **slot, true);
        EXPECT_TRUE(session);
        EXPECT_EQ(session->login(CKU_USER, user_pin), CKR_OK);
        return std::move(session).value();
    }

    temp_dir dir_;
};

TEST_F(Pkcs11KeyStore, FirstOpenInitialisesTokenAndReopenFindsTheSameKey) {
    std::array<std::uint8_t, 32> first{};
    {
        auto store = open(config());
        ASSERT_NE(store, nullptr);
        EXPECT_EQ(store->current_pepper_version(), 1);
        auto mac = store->pepper_mac(1, bytes("known input"));
        ASSERT_TRUE(mac);
        first = *mac;
        EXPECT_NE(first, (std::array<std::uint8_t, 32>{}));
    }
    // The token lives in files under the directory prepare_softhsm made.
    EXPECT_FALSE(fs::is_empty(dir_.path() / "softhsm" / "tokens"));
    auto store = open(config());
    ASSERT_NE(store, nullptr);
    auto again = store->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, first);
}

TEST_F(Pkcs11KeyStore, MacDependsOnInputAndKey) {
    auto store = open(config());
    ASSERT_NE(store, nullptr);
    auto a = store->pepper_mac(1, bytes("known input"));
    auto b = store->pepper_mac(1, bytes("known inpuT"));
    auto empty = store->pepper_mac(1, {});
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    ASSERT_TRUE(empty);
    EXPECT_NE(*a, *b);
    EXPECT_NE(*a, *empty);
    EXPECT_EQ(*store->pepper_mac(1, bytes("known input")), *a);  // deterministic

    auto software = make_memory_key_store();
    auto other = software->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(other);
    EXPECT_NE(*other, *a);
}

TEST_F(Pkcs11KeyStore, UnknownPepperVersionIsKeyMissing) {
    auto store = open(config());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->pepper_mac(2, bytes("x")).error(), hsm_error::key_missing);
    EXPECT_EQ(store->pepper_mac(0, bytes("x")).error(), hsm_error::key_missing);
    EXPECT_TRUE(store->pepper_mac(1, bytes("x")));  // the session is still usable
}

TEST_F(Pkcs11KeyStore, WrongPinIsLoginFailed) {
    { ASSERT_NE(open(config()), nullptr); }
    auto store = open_pkcs11_key_store(config("not-the-pin"));
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error(), hsm_error::login_failed);
}

// Secrets never reach a log (DESIGN.md §5): capture everything the key store logs while it
// initialises a token, fails a login and refuses an SO PIN, and look for the PINs in it.
TEST_F(Pkcs11KeyStore, LogsNeverContainAPin) {
    std::ostringstream captured;
    auto previous = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    spdlog::set_level(spdlog::level::trace);
    {
        auto ok = open(config());
        EXPECT_NE(ok, nullptr);
    }
    EXPECT_EQ(open_pkcs11_key_store(config("wrong-pin-31337")).error(), hsm_error::login_failed);
    token_config same = config();
    same.token_label = "another-token";
    same.so_pin = core::secret_string(user_pin);
    EXPECT_EQ(open_pkcs11_key_store(same).error(), hsm_error::token_init_failed);
    spdlog::set_default_logger(previous);

    const std::string text = captured.str();
    EXPECT_NE(text.find("CKR_PIN_INCORRECT"), std::string::npos) << text;
    for (const char* pin : {user_pin, so_pin, "wrong-pin-31337"})
        EXPECT_EQ(text.find(pin), std::string::npos) << pin;
}

TEST_F(Pkcs11KeyStore, MissingModuleIsModuleLoadFailed) {
    token_config c = config();
    c.module_path = dir_.path() / "no-such-module.so";
    auto store = open_pkcs11_key_store(c);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error(), hsm_error::module_load_failed);
}

TEST_F(Pkcs11KeyStore, LibraryThatIsNotPkcs11IsModuleLoadFailed) {
    token_config c = config();
    c.module_path = "libc.so.6";
    auto store = open_pkcs11_key_store(c);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error(), hsm_error::module_load_failed);
}

TEST_F(Pkcs11KeyStore, MissingTokenWithoutInitialisationIsTokenNotFound) {
    token_config c = config();
    c.initialise_if_missing = false;
    auto store = open_pkcs11_key_store(c);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error(), hsm_error::token_not_found);
}

TEST_F(Pkcs11KeyStore, LabelLongerThanATokenLabelIsTokenNotFound) {
    token_config c = config();
    c.token_label = std::string(33, 'x');
    c.initialise_if_missing = false;
    EXPECT_EQ(open_pkcs11_key_store(c).error(), hsm_error::token_not_found);
}

TEST_F(Pkcs11KeyStore, InitialisationRefusesSoPinEqualToUserPinOrEmpty) {
    token_config same = config();
    same.so_pin = core::secret_string(user_pin);
    EXPECT_EQ(open_pkcs11_key_store(same).error(), hsm_error::token_init_failed);
    token_config none = config();
    none.so_pin = core::secret_string();
    EXPECT_EQ(open_pkcs11_key_store(none).error(), hsm_error::token_init_failed);
    // Nothing was initialised by the refused attempts.
    token_config lookup = config();
    lookup.initialise_if_missing = false;
    EXPECT_EQ(open_pkcs11_key_store(lookup).error(), hsm_error::token_not_found);
}

// The point of the HSM: the pepper's value cannot be read out of the token, not even by a
// logged-in user, and never could have been (§4.10: CKA_ALWAYS_SENSITIVE,
// CKA_NEVER_EXTRACTABLE; §5.7: C_GetAttributeValue answers CKR_ATTRIBUTE_SENSITIVE).
TEST_F(Pkcs11KeyStore, PepperKeyValueCannotBeRead) {
    { ASSERT_NE(open(config()), nullptr); }
    detail::pkcs11_session session = user_session();

    std::string label = "secms-pepper-v1";
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, label.data(), label.size()}};
    auto found = session.find(query, 4);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u);
    const CK_OBJECT_HANDLE key = found->front();

    CK_ATTRIBUTE value{CKA_VALUE, nullptr, 0};
    EXPECT_EQ(session.api().C_GetAttributeValue(session.handle(), key, &value, 1),
              CKR_ATTRIBUTE_SENSITIVE);
    EXPECT_EQ(value.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    std::array<std::uint8_t, 64> buffer{};
    CK_ATTRIBUTE with_buffer{CKA_VALUE, buffer.data(), buffer.size()};
    EXPECT_EQ(session.api().C_GetAttributeValue(session.handle(), key, &with_buffer, 1),
              CKR_ATTRIBUTE_SENSITIVE);
    EXPECT_EQ(buffer, (std::array<std::uint8_t, 64>{}));

    struct expectation {
        CK_ATTRIBUTE_TYPE type;
        bool value;
        const char* name;
    };
    for (const expectation& e :
         {expectation{CKA_SENSITIVE, true, "CKA_SENSITIVE"},
          expectation{CKA_EXTRACTABLE, false, "CKA_EXTRACTABLE"},
          expectation{CKA_ALWAYS_SENSITIVE, true, "CKA_ALWAYS_SENSITIVE"},
          expectation{CKA_NEVER_EXTRACTABLE, true, "CKA_NEVER_EXTRACTABLE"},
          expectation{CKA_TOKEN, true, "CKA_TOKEN"}, expectation{CKA_PRIVATE, true, "CKA_PRIVATE"},
          expectation{CKA_SIGN, true, "CKA_SIGN"}, expectation{CKA_DERIVE, false, "CKA_DERIVE"}}) {
        auto got = session.bool_attribute(key, e.type);
        ASSERT_TRUE(got) << e.name << ": " << detail::rv_name(got.error());
        EXPECT_EQ(*got, e.value) << e.name;
    }
    CK_ULONG length = 0;
    CK_ATTRIBUTE value_len{CKA_VALUE_LEN, &length, sizeof length};
    ASSERT_EQ(session.api().C_GetAttributeValue(session.handle(), key, &value_len, 1), CKR_OK);
    EXPECT_EQ(length, 32u);

    // A private object: without logging in, the key is not even visible.
    ASSERT_EQ(session.logout(), CKR_OK);
    auto anonymous = session.find(query, 4);
    ASSERT_TRUE(anonymous);
    EXPECT_TRUE(anonymous->empty());
}

// Makes a secret key labelled "secms-pepper-v<version>" directly in the token, as an operator
// rotating the pepper might.
void make_key(detail::pkcs11_session& session, int version, bool extractable) {
    std::string label = "secms-pepper-v" + std::to_string(version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_GENERIC_SECRET;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL ex = extractable ? CK_TRUE : CK_FALSE;
    CK_BBOOL sensitive = extractable ? CK_FALSE : CK_TRUE;
    CK_ATTRIBUTE attributes[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &len, sizeof len},
        {CKA_LABEL, label.data(), label.size()},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &sensitive, sizeof sensitive},
        {CKA_EXTRACTABLE, &ex, sizeof ex},
        {CKA_SIGN, &yes, sizeof yes},
    };
    CK_MECHANISM mechanism{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    ASSERT_EQ(session.api().C_GenerateKey(session.handle(), &mechanism, attributes,
                                          std::size(attributes), &key),
              CKR_OK);
}

TEST_F(Pkcs11KeyStore, OlderOrNewerPepperVersionsAreFoundButExtractableKeysRefused) {
    { ASSERT_NE(open(config()), nullptr); }
    {
        detail::pkcs11_session session = user_session();
        make_key(session, 2, false);
        make_key(session, 3, true);
    }
    auto store = open(config());
    ASSERT_NE(store, nullptr);
    auto v1 = store->pepper_mac(1, bytes("input"));
    auto v2 = store->pepper_mac(2, bytes("input"));
    ASSERT_TRUE(v1);
    ASSERT_TRUE(v2);
    EXPECT_NE(*v1, *v2);
    EXPECT_EQ(store->pepper_mac(3, bytes("input")).error(), hsm_error::key_missing);
}

TEST_F(Pkcs11KeyStore, ConcurrentMacsAreConsistent) {
    auto store = open(config());
    ASSERT_NE(store, nullptr);
    constexpr int inputs = 40;
    std::vector<std::array<std::uint8_t, 32>> expected;
    for (int i = 0; i < inputs; ++i) {
        auto mac = store->pepper_mac(1, bytes("input-" + std::to_string(i)));
        ASSERT_TRUE(mac);
        expected.push_back(*mac);
    }
    constexpr int threads = 8;
    std::vector<int> mismatches(threads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round) {
                for (int i = 0; i < inputs; ++i) {
                    const int k = (i + t) % inputs;
                    auto mac = store->pepper_mac(1, bytes("input-" + std::to_string(k)));
                    if (!mac || *mac != expected[static_cast<std::size_t>(k)])
                        ++mismatches[static_cast<std::size_t>(t)];
                }
            }
        });
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) EXPECT_EQ(mismatches[static_cast<std::size_t>(t)], 0) << t;
}

// A fault-injecting wrapper around SoftHSM2's function list: while `failing` is set, signing
// answers CKR_DEVICE_REMOVED and opening a session CKR_TOKEN_NOT_PRESENT, as a token pulled
// out of its reader does (§5.6: a removed token closes all its sessions).
namespace faulty {
std::atomic<bool> failing{false};
std::atomic<int> sessions_opened{0};
CK_FUNCTION_LIST real{};
CK_FUNCTION_LIST list{};

CK_RV sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
    return failing ? CKR_DEVICE_REMOVED : real.C_SignInit(s, m, k);
}
CK_RV open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                   CK_SESSION_HANDLE_PTR session) {
    ++sessions_opened;
    return failing ? CKR_TOKEN_NOT_PRESENT : real.C_OpenSession(slot, flags, app, notify, session);
}

// Routes the shared SoftHSM2 module (the one the key store uses) through the wrapper until
// destroyed.
class installed {
  public:
    installed() : module_(*detail::pkcs11_module::open(softhsm_module)) {
        real = module_->api();
        list = real;
        list.C_SignInit = sign_init;
        list.C_OpenSession = open_session;
        failing = false;
        sessions_opened = 0;
        module_->use_function_list_for_testing(&list);
    }
    ~installed() { module_->use_function_list_for_testing(&real_original()); }

  private:
    static CK_FUNCTION_LIST& real_original() { return real; }
    std::shared_ptr<detail::pkcs11_module> module_;
};
}  // namespace faulty

TEST_F(Pkcs11KeyStore, LostTokenIsUnavailableThenReopenedWithTheSameKey) {
    auto store = open(config_reopening_at_once());
    ASSERT_NE(store, nullptr);
    auto before = store->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(before);
    EXPECT_TRUE(store->reachable());

    faulty::installed wrapper;
    faulty::failing = true;
    auto during = store->pepper_mac(1, bytes("known input"));
    ASSERT_FALSE(during);
    EXPECT_EQ(during.error(), hsm_error::token_unavailable);
    EXPECT_FALSE(store->reachable());
    EXPECT_FALSE(store->probe());
    EXPECT_GE(faulty::sessions_opened.load(), 1);  // it tried to reopen

    faulty::failing = false;
    auto after = store->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(after) << message(after.error());
    EXPECT_EQ(*after, *before);  // the same pepper found again, no new one generated
    EXPECT_TRUE(store->reachable());
}

TEST_F(Pkcs11KeyStore, ReopeningALostTokenIsBoundedByTheBackOff) {
    auto c = config();
    c.reopen_first_wait = std::chrono::hours(1);
    c.reopen_longest_wait = std::chrono::hours(1);
    auto store = open(c);
    ASSERT_NE(store, nullptr);
    faulty::installed wrapper;
    faulty::failing = true;
    for (int i = 0; i < 50; ++i) {
        auto mac = store->pepper_mac(1, bytes("x"));
        ASSERT_FALSE(mac);
        EXPECT_EQ(mac.error(), hsm_error::token_unavailable);
    }
    // One reopen (before and after initialising the module again) for the first failure; the
    // other 49 calls wait for the back-off instead of hammering the token.
    EXPECT_LE(faulty::sessions_opened.load(), 2);
    EXPECT_GE(faulty::sessions_opened.load(), 1);
}

TEST_F(Pkcs11KeyStore, TokenDirectoryMovedAwayAndBackRecoversWithoutRestart) {
    auto store = open(config_reopening_at_once());
    ASSERT_NE(store, nullptr);
    auto before = store->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(before);
    const auto tokens = dir_.path() / "softhsm" / "tokens";
    const auto away = dir_.path() / "softhsm" / "tokens.away";
    fs::rename(tokens, away);
    fs::create_directory(tokens);
    auto during = store->pepper_mac(1, bytes("known input"));
    ASSERT_FALSE(during);
    EXPECT_EQ(during.error(), hsm_error::token_unavailable);
    EXPECT_FALSE(store->reachable());

    fs::remove(tokens);
    fs::rename(away, tokens);
    auto after = store->pepper_mac(1, bytes("known input"));
    ASSERT_TRUE(after) << message(after.error());
    EXPECT_EQ(*after, *before);
    EXPECT_TRUE(store->reachable());
}

TEST(MemoryKeyStore, DeterministicPerInstanceAndVersionOneOnly) {
    auto a = make_memory_key_store();
    auto b = make_memory_key_store();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->current_pepper_version(), 1);
    auto a1 = a->pepper_mac(1, bytes("data"));
    ASSERT_TRUE(a1);
    EXPECT_EQ(*a->pepper_mac(1, bytes("data")), *a1);
    EXPECT_NE(*a->pepper_mac(1, bytes("Data")), *a1);
    EXPECT_NE(*b->pepper_mac(1, bytes("data")), *a1);  // each instance has its own random key
    EXPECT_EQ(a->pepper_mac(2, bytes("data")).error(), hsm_error::key_missing);
}

TEST(SoftHsmConfig, WritesPrivateConfigurationOnce) {
    temp_dir dir;
    const fs::path root = dir.path() / "hsm";
    auto conf = prepare_softhsm(root);
    ASSERT_TRUE(conf);
    EXPECT_EQ(*conf, root / "softhsm2.conf");
    EXPECT_TRUE(conf->is_absolute());
    EXPECT_EQ(mode_of(*conf), 0600u);
    EXPECT_EQ(mode_of(root / "tokens"), 0700u);
    const std::string text = read_all(*conf);
    EXPECT_NE(text.find("directories.tokendir = " + (root / "tokens").string() + "\n"),
              std::string::npos);
    EXPECT_NE(text.find("objectstore.backend = file\n"), std::string::npos);
    EXPECT_NE(text.find("log.level = ERROR\n"), std::string::npos);
    EXPECT_NE(text.find("slots.removable = false\n"), std::string::npos);

    // Idempotent, and an operator's edit survives.
    { std::ofstream(*conf, std::ios::app) << "# operator note\n"; }
    auto again = prepare_softhsm(root);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *conf);
    EXPECT_EQ(read_all(*again), text + "# operator note\n");
}

// A link planted where the token directory belongs: its target must not become the server's
// (chmod) nor receive the configuration.
TEST(SoftHsmConfig, SymlinkedDirectoryIsRefused) {
    temp_dir dir;
    const fs::path target = dir.path() / "elsewhere";
    fs::create_directories(target);
    fs::permissions(target, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    const fs::path root = dir.path() / "hsm";
    fs::create_directory_symlink(target, root);
    EXPECT_FALSE(prepare_softhsm(root));
    EXPECT_FALSE(fs::exists(target / "softhsm2.conf"));
    EXPECT_EQ(mode_of(target), 0755u);
}

TEST(SoftHsmConfig, RelativeDirectoryGivesAbsolutePaths) {
    temp_dir dir;
    const fs::path old = fs::current_path();
    fs::current_path(dir.path());
    auto conf = prepare_softhsm("relative/hsm");
    fs::current_path(old);
    ASSERT_TRUE(conf);
    EXPECT_TRUE(conf->is_absolute());
    EXPECT_NE(read_all(*conf).find("directories.tokendir = " +
                                   (dir.path() / "relative/hsm/tokens").string()),
              std::string::npos);
}

TEST(SoftHsmConfig, UncreatableDirectoryIsAnError) {
    temp_dir dir;
    { std::ofstream(dir.path() / "file") << "x"; }
    auto conf = prepare_softhsm(dir.path() / "file" / "hsm");
    ASSERT_FALSE(conf);
    EXPECT_EQ(conf.error(), hsm_error::token_init_failed);
}

TEST(HsmMessages, EveryErrorHasItsOwnMessage) {
    std::set<std::string_view> seen;
    for (hsm_error e :
         {hsm_error::module_load_failed, hsm_error::token_not_found, hsm_error::token_init_failed,
          hsm_error::login_failed, hsm_error::key_missing, hsm_error::key_generation_failed,
          hsm_error::mechanism_failed, hsm_error::token_unavailable}) {
        EXPECT_FALSE(message(e).empty());
        EXPECT_TRUE(seen.insert(message(e)).second);
    }
}

TEST(HsmToken, PaddedLabelIsBlankFilled) {
    auto label = detail::padded_label("secms");
    ASSERT_TRUE(label);
    EXPECT_EQ(std::string(label->begin(), label->end()), "secms" + std::string(27, ' '));
    EXPECT_TRUE(detail::padded_label(std::string(32, 'a')));
    EXPECT_FALSE(detail::padded_label(std::string(33, 'a')));
}

}  // namespace
}  // namespace secms::hsm

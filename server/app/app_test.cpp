#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/app/cli.hpp"
#include "server/app/data_dir.hpp"

namespace secms::app {
namespace {

namespace fs = std::filesystem;

auto none_given = [](const std::string&) { return false; };

TEST(ConfigToml, AppliesTypedValues) {
    config c;
    std::string error;
    ASSERT_TRUE(apply_toml(R"(
[server]
https_port = 9443
listen = "0.0.0.0"
metrics_public = true
[rate_limits]
login_per_ip_burst = 3
login_per_ip_per_minute = 1.5
[password]
argon2_memory_kib = 65536
)",
                           c, none_given, error))
        << error;
    EXPECT_EQ(c.https_port, 9443);
    EXPECT_EQ(c.listen, "0.0.0.0");
    EXPECT_TRUE(c.metrics_public);
    EXPECT_DOUBLE_EQ(c.login_per_ip_burst, 3.0);
    EXPECT_DOUBLE_EQ(c.login_per_ip_per_minute, 1.5);
    EXPECT_EQ(c.argon2_memory_kib, 65536u);
    EXPECT_EQ(c.effective_public_origin(), "https://localhost:9443");
}

TEST(ConfigToml, CommandLineWins) {
    config c;
    c.https_port = 7000;  // as if given by --https-port 7000
    std::string error;
    ASSERT_TRUE(apply_toml(
        "[server]\nhttps_port = 9443\nhttp_port = 81\n", c,
        [](const std::string& flag) { return flag == "https-port"; }, error));
    EXPECT_EQ(c.https_port, 7000);
    EXPECT_EQ(c.http_port, 81);
}

TEST(ConfigToml, ClearErrors) {
    config c;
    std::string error;
    EXPECT_FALSE(apply_toml("[server]\nhttps_prot = 1\n", c, none_given, error));
    EXPECT_NE(error.find("unknown key server.https_prot"), std::string::npos);
    EXPECT_FALSE(apply_toml("[server]\nhttps_port = \"x\"\n", c, none_given, error));
    EXPECT_NE(error.find("wrong type"), std::string::npos);
    EXPECT_FALSE(apply_toml("[server]\nhttps_port = 70000\n", c, none_given, error));
    EXPECT_NE(error.find("out of range"), std::string::npos);
    EXPECT_FALSE(apply_toml("[server\n", c, none_given, error));
    EXPECT_NE(error.find("not valid TOML"), std::string::npos);
    EXPECT_FALSE(apply_toml("port = 1\n", c, none_given, error));
}

TEST(ConfigCommandLine, FlagsAndFile) {
    auto dir = fs::temp_directory_path() / ("secms-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "secms.toml") << "[server]\nhttps_port = 9443\nhttp_port = 9080\n";
    std::string file = (dir / "secms.toml").string();
    std::vector<std::string> args{"secms-server", "--config", file, "--https-port", "7443"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    invocation inv;
    EXPECT_EQ(parse_command_line(static_cast<int>(argv.size()), argv.data(), inv), -1);
    EXPECT_EQ(inv.what, command::serve);
    EXPECT_EQ(inv.settings.https_port, 7443);
    EXPECT_EQ(inv.settings.http_port, 9080);

    std::vector<std::string> admin{"secms-server", "--data-dir", "/tmp/x",   "user",
                                   "role",         "bob",        "moderator"};
    argv.clear();
    for (auto& a : admin) argv.push_back(a.data());
    invocation inv2;
    EXPECT_EQ(parse_command_line(static_cast<int>(argv.size()), argv.data(), inv2), -1);
    EXPECT_EQ(inv2.what, command::user_role);
    EXPECT_EQ(inv2.username, "bob");
    EXPECT_EQ(inv2.role, "moderator");
    EXPECT_EQ(inv2.settings.data_dir, "/tmp/x");
    fs::remove_all(dir);
}

TEST(ConfigOrigins, PublicAndExtra) {
    config c;
    c.public_origin = "https://chat.example";
    c.extra_origins = "https://a.example, https://b.example";
    EXPECT_EQ(c.allowed_origins(),
              (std::vector<std::string>{"https://chat.example", "https://a.example",
                                        "https://b.example"}));
}

class DataDirTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("secms-data-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(DataDirTest, PrivateDirectory) {
    std::string error;
    ASSERT_TRUE(ensure_private_directory(dir_ / "a", error)) << error;
    auto perms = fs::status(dir_ / "a").permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

TEST_F(DataDirTest, SelfSignedCertificateForLocalhost) {
    std::string error;
    auto cert = dir_ / "tls" / "cert.pem";
    auto key = dir_ / "tls" / "key.pem";
    ASSERT_TRUE(ensure_self_signed_certificate(cert, key, error)) << error;
    EXPECT_EQ(fs::status(key).permissions() & (fs::perms::group_all | fs::perms::others_all),
              fs::perms::none);
    FILE* f = std::fopen(cert.c_str(), "r");
    ASSERT_NE(f, nullptr);
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    X509_free(x);
    // Idempotent: a second call keeps the same files.
    auto before = fs::last_write_time(cert);
    ASSERT_TRUE(ensure_self_signed_certificate(cert, key, error));
    EXPECT_EQ(fs::last_write_time(cert), before);
    // Half a pair is refused.
    fs::remove(key);
    EXPECT_FALSE(ensure_self_signed_certificate(cert, key, error));
}

TEST_F(DataDirTest, PinFile) {
    std::string error;
    core::secret_string pin;
    EXPECT_FALSE(load_or_create_pin(dir_ / "hsm" / "user.pin", false, pin, error));
    ASSERT_TRUE(load_or_create_pin(dir_ / "hsm" / "user.pin", true, pin, error)) << error;
    EXPECT_GE(pin.size(), 24u);
    core::secret_string again;
    ASSERT_TRUE(load_or_create_pin(dir_ / "hsm" / "user.pin", false, again, error));
    EXPECT_EQ(pin.reveal(), again.reveal());
    fs::permissions(dir_ / "hsm" / "user.pin", fs::perms::others_read, fs::perm_options::add);
    EXPECT_FALSE(load_or_create_pin(dir_ / "hsm" / "user.pin", false, again, error));
    EXPECT_NE(error.find("chmod 600"), std::string::npos);
}

fs::perms mode_of(const fs::path& p) {
    return fs::symlink_status(p).permissions() & fs::perms::mask;
}

TEST_F(DataDirTest, OwnDirectoryReadableByOthersIsMadePrivate) {
    std::string error;
    fs::create_directories(dir_ / "open");
    fs::permissions(dir_ / "open", fs::perms::all, fs::perm_options::replace);
    ASSERT_TRUE(ensure_private_directory(dir_ / "open", error)) << error;
    EXPECT_EQ(mode_of(dir_ / "open"), fs::perms::owner_all);
}

// A link planted where turn/, tls/ or hsm/ belongs would have its target chmod'ed to 0700 and the
// secret written there, wherever it points: refused, and the target left untouched.
TEST_F(DataDirTest, SymlinkedSubdirectoryIsRefused) {
    std::string error;
    const fs::path target = dir_ / "elsewhere";
    fs::create_directories(target);
    fs::permissions(target,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::replace);
    const fs::perms before = mode_of(target);
    for (const char* sub : {"turn", "tls", "hsm"}) fs::create_directory_symlink(target, dir_ / sub);

    EXPECT_FALSE(load_or_create_turn_secret(dir_ / "turn" / "secret", error));
    EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
    EXPECT_FALSE(
        ensure_self_signed_certificate(dir_ / "tls" / "cert.pem", dir_ / "tls" / "key.pem", error));
    EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
    core::secret_string pin;
    EXPECT_FALSE(load_or_create_pin(dir_ / "hsm" / "user.pin", true, pin, error));
    EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
    EXPECT_FALSE(ensure_private_directory(dir_ / "turn", error, directory_links::refuse));

    EXPECT_EQ(mode_of(target), before);
    EXPECT_TRUE(fs::is_empty(target)) << "something was written through a link";
    // The data directory itself may be a link to a directory of ours (an operator's layout).
    fs::create_directory_symlink(target, dir_ / "data");
    EXPECT_TRUE(ensure_private_directory(dir_ / "data", error)) << error;
}

// A directory another account owns can be swapped or read by that account whatever its mode (it
// can chmod it back): refused, not chmod'ed, even for root.
TEST_F(DataDirTest, DirectoryOfAnotherUserIsRefused) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to give a directory to another uid (chown 65534)";
    }
    std::string error;
    const fs::path foreign = dir_ / "foreign";
    fs::create_directories(foreign);
    fs::permissions(foreign, fs::perms::all, fs::perm_options::replace);
    ASSERT_EQ(::chown(foreign.c_str(), 65534, 65534), 0);

    EXPECT_FALSE(ensure_private_directory(foreign, error));
    EXPECT_NE(error.find("owned by uid 65534"), std::string::npos) << error;
    EXPECT_EQ(mode_of(foreign), fs::perms::all) << "a refused directory is left as it was";
    // Its subdirectory given to another uid inside a directory of ours: refused as well.
    fs::create_directories(dir_ / "own" / "turn");
    ASSERT_EQ(::chown((dir_ / "own" / "turn").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(load_or_create_turn_secret(dir_ / "own" / "turn" / "secret", error));
    EXPECT_NE(error.find("owned by uid 65534"), std::string::npos) << error;
}

}  // namespace
}  // namespace secms::app

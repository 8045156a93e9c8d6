#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "server/core/host_syntax.hpp"
#include "server/core/log.hpp"
#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::core {
namespace {

TEST(SecureBytes, PrintsRedacted) {
    secure_bytes key = random_secret(32);
    std::ostringstream os;
    os << key;
    EXPECT_EQ(os.str(), "[redacted 32 bytes]");
    EXPECT_EQ(os.str().find(to_hex(key.view())), std::string::npos);
}

TEST(SecretString, PrintsRedacted) {
    secret_string pw("hunter2-correct-horse");
    std::ostringstream os;
    os << pw;
    EXPECT_EQ(os.str(), "[redacted]");
    EXPECT_EQ(pw.reveal(), "hunter2-correct-horse");
}

TEST(SecureBytes, MoveLeavesSourceEmpty) {
    secure_bytes a = random_secret(16);
    secure_bytes b = std::move(a);
    EXPECT_EQ(b.size(), 16u);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the point of the test
}

TEST(SecureBytes, ConstantTimeEquals) {
    secure_bytes a = random_secret(16);
    secure_bytes b = a.clone();
    EXPECT_TRUE(a.equals(b.view()));
    b.mutable_view()[3] ^= 1;
    EXPECT_FALSE(a.equals(b.view()));
    EXPECT_FALSE(a.equals(b.view().first(8)));
}

TEST(RandomToken, LengthAndAlphabet) {
    std::string t = random_token(32);
    EXPECT_EQ(t.size(), 43u);  // 256 bits, base64url without padding
    for (char c : t)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    EXPECT_NE(t, random_token(32));
}

TEST(LogEscape, NeutralisesControlCharacters) {
    EXPECT_EQ(log_escape("a\nb\"c\\"), "a?b\\\"c\\\\");
}

enum class sample_error { bad };

result<int, sample_error> half(int x) {
    if (x % 2 != 0) return fail(sample_error::bad);
    return x / 2;
}

TEST(Result, ValueAndError) {
    auto good = half(4);
    ASSERT_TRUE(good);
    EXPECT_EQ(*good, 2);
    auto bad = half(3);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), sample_error::bad);
}

}  // namespace
}  // namespace secms::core

#include "server/core/metrics.hpp"
#include "server/core/offload.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <future>

namespace secms::core {
namespace {

TEST(Metrics, PrometheusText) {
    metrics m;
    m.logins_ok = 3;
    m.count_response(200);
    m.count_response(200);
    m.count_response(404);
    m.count_response(99);  // out of range: ignored
    std::string text = m.render();
    EXPECT_NE(text.find("# TYPE secms_logins_ok_total counter\nsecms_logins_ok_total 3\n"),
              std::string::npos);
    EXPECT_NE(text.find("secms_http_responses_total{code=\"200\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("secms_http_responses_total{code=\"404\"} 1\n"), std::string::npos);
    EXPECT_EQ(text.find("code=\"500\""), std::string::npos);
    {
        queued_job job(m.hash_queue_depth);
        EXPECT_EQ(m.hash_queue_depth.load(), 1);
    }
    EXPECT_EQ(m.hash_queue_depth.load(), 0);
}

// secms_hash_queue_depth promises "queued or running": jobs that wait behind a busy worker count
// too, not only the one that runs.
TEST(Offload, QueueDepthCountsJobsWaitingForAWorker) {
    metrics m;
    boost::asio::thread_pool pool(1);
    boost::asio::io_context io;
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::atomic<int> done{0};
    for (int i = 0; i < 3; ++i) {
        boost::asio::co_spawn(io,
                              offload_counted(pool, m.hash_queue_depth,
                                              [gate, &done] {
                                                  gate.wait();
                                                  return ++done;
                                              }),
                              boost::asio::detached);
    }
    io.poll();  // each coroutine hands its job to the pool and suspends
    EXPECT_EQ(m.hash_queue_depth.load(), 3);  // one running, two waiting for the only worker
    release.set_value();
    io.run();  // until every job has finished and resumed its coroutine
    EXPECT_EQ(done.load(), 3);
    EXPECT_EQ(m.hash_queue_depth.load(), 0);
    pool.join();
}

}  // namespace
}  // namespace secms::core

namespace {

TEST(host_syntax, ports) {
    EXPECT_TRUE(secms::core::valid_port("1"));
    EXPECT_TRUE(secms::core::valid_port("65535"));
    for (const char* bad : {"", "0", "65536", "-1", "+80", " 80", "80 ", "0x50", "123456"}) {
        EXPECT_FALSE(secms::core::valid_port(bad)) << bad;
    }
}

TEST(host_syntax, hosts) {
    for (const char* good : {"localhost", "turn.example.org", "127.0.0.1", "[::1]", "[fe80::1]"}) {
        EXPECT_TRUE(secms::core::valid_host(good)) << good;
    }
    for (const char* bad : {"", ".example", "-example", "a..b", "ex ample", "exa/mple", "[]",
                            "[::1", "[g::1]", "[127.0.0.1]", "user@host"}) {
        EXPECT_FALSE(secms::core::valid_host(bad)) << bad;
    }
    EXPECT_FALSE(secms::core::valid_host_name(std::string(254, 'a')));
}

}  // namespace

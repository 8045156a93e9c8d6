// Fuzz target: HTTP request handling up to the router, with no socket. The input is parsed as
// one HTTP/1.1 request with the server's limits; a request goes through http::handle_request
// with the in-memory store and key store, anything else through normalise_request_path alone.
// "__Host-sid=LOGIN" in a Cookie header stands for a live login of the account "alice".
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "server/auth/accounts.hpp"
#include "server/auth/login_sessions.hpp"
#include "server/auth/login_throttle.hpp"
#include "server/auth/password_hasher.hpp"
#include "server/auth/rate_limiter.hpp"
#include "server/core/clock.hpp"
#include "server/core/metrics.hpp"
#include "server/hsm/key_store.hpp"
#include "server/http/request_path.hpp"
#include "server/http/router.hpp"
#include "server/http/static_files.hpp"
#include "server/store/user_store.hpp"

namespace {

using namespace secms;
namespace fs = std::filesystem;
namespace beast_http = boost::beast::http;

// Every returned path is absolute, names no parent and holds nothing that could leave the root.
void check_path(std::string_view target) {
    auto path = http::normalise_request_path(target);
    if (!path) return;
    const std::string& p = *path;
    if (p.empty() || p[0] != '/') std::abort();
    if (p.find('\0') != std::string::npos || p.find('\\') != std::string::npos) std::abort();
    if (p.find("/../") != std::string::npos || p.ends_with("/..") ||
        p.find("/./") != std::string::npos || p.ends_with("/.") ||
        p.find("//") != std::string::npos) {
        std::abort();
    }
    for (unsigned char c : p) {
        if (c < 0x20 || c == 0x7f) std::abort();
    }
}

// A small web root: a page and a script, as the built front end has.
struct web_root {
    fs::path dir = fs::temp_directory_path() / ("secms-fuzz-web-" + std::to_string(::getpid()));
    web_root() {
        fs::create_directories(dir / "assets");
        std::ofstream(dir / "index.html") << "<!doctype html><title>x</title>";
        std::ofstream(dir / "app.html") << "<!doctype html><title>app</title>";
        std::ofstream(dir / "assets" / "app-ABC.js") << "export {};";
    }
    ~web_root() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

const fs::path& web_dir() {
    static const web_root root;
    return root.dir;
}

void handle(http::request req) {
    core::system_clock clock;
    auto users = store::make_memory_store();
    auto keys = hsm::make_memory_key_store();
    // Below the OWASP minimum on purpose: the fuzzer must not spend its time in Argon2id.
    auth::password_hasher hasher{*keys, {8, 1}};
    auth::account_service accounts{*users, hasher, clock};
    auth::login_sessions sessions{{}, clock};
    auth::rate_limiter ip{{100, 100, 1000}, clock};
    auth::login_throttle account{{3}, clock};
    auth::rate_limiter register_ip{{100, 100, 1000}, clock};
    core::metrics metrics;
    http::static_files files{web_dir()};
    boost::asio::thread_pool pool{1};
    http::server_context ctx{{"https://localhost:8443", {"https://localhost:8443"}, false},
                             accounts,
                             sessions,
                             {ip, account, register_ip},
                             metrics,
                             files,
                             pool};
    ctx.keys = keys.get();

    (void)users->create({"alice", "argon2id$x", 1, store::role::user, 1});
    auto login = sessions.create(1, "alice", store::role::user);
    if (auto cookie = req[beast_http::field::cookie]; !cookie.empty()) {
        std::string value(cookie);
        constexpr std::string_view placeholder = "__Host-sid=LOGIN";
        if (auto at = value.find(placeholder); at != std::string::npos) {
            value.replace(at, placeholder.size(), "__Host-sid=" + login.cookie_token);
            req.set(beast_http::field::cookie, value);
        }
    }

    boost::asio::io_context io;
    const bool loopback = req.target().starts_with("/metrics");
    boost::asio::co_spawn(io, http::handle_request(std::move(req), {"127.0.0.1", loopback}, ctx),
                          [](std::exception_ptr e, http::response r) {
                              if (e) std::abort();  // the router answers every request
                              if (r.result_int() < 100 || r.result_int() > 599) std::abort();
                          });
    io.run();
    pool.join();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(8 * 1024);  // as net/limits.hpp bounds a request
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (!ec && used > 0 && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) {
        check_path(input);
        return 0;
    }
    http::request req = parser.release();
    check_path(req.target());
    handle(std::move(req));
    return 0;
}

#include "server/hsm/softhsm.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "server/core/log.hpp"

namespace secms::hsm {

namespace {

namespace fs = std::filesystem;

// Creates `p` with mode 0700 if missing, and makes an existing one owner-only too: the token
// files are the server's secrets (encrypted by the PIN, but still not for other users).
// A symbolic link where the directory belongs is refused (O_NOFOLLOW), and so is a directory
// another account owns: either would have its target made ours and the token written there.
// The owner check and the chmod act on one opened directory, so nothing is swapped in between.
bool make_private_dir(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) return false;
    const int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    const bool ok = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
                    ::fchmod(fd, S_IRWXU) == 0;
    ::close(fd);
    return ok;
}

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

core::result<std::filesystem::path, hsm_error> prepare_softhsm(const std::filesystem::path& dir) {
    std::error_code ec;
    const fs::path root = fs::absolute(dir, ec).lexically_normal();
    if (ec) return core::fail(hsm_error::token_init_failed);
    const fs::path tokens = root / "tokens";
    const fs::path conf = root / "softhsm2.conf";
    // SoftHSM2's configuration format is one "key = value" per line: a path with a line break
    // would inject settings.
    if (tokens.string().find_first_of("\r\n") != std::string::npos) {
        spdlog::error("SoftHSM2: the token directory path contains a line break");
        return core::fail(hsm_error::token_init_failed);
    }
    if (!make_private_dir(root) || !make_private_dir(tokens)) {
        spdlog::error("SoftHSM2: cannot create the token directory {}", tokens.string());
        return core::fail(hsm_error::token_init_failed);
    }

    // O_EXCL: never replace a file that exists (idempotent, and no race with a second
    // instance); 0600 from the moment it exists.
    const int fd = ::open(conf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return conf;
        spdlog::error("SoftHSM2: cannot create {}", conf.string());
        return core::fail(hsm_error::token_init_failed);
    }
    const std::string text =
        "# Written by secms-server for its embedded SoftHSM2 token.\n"
        "directories.tokendir = " +
        tokens.string() +
        "\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n";
    const bool written = write_all(fd, text) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
        ::unlink(conf.c_str());  // a half-written file would be taken as done next time
        spdlog::error("SoftHSM2: cannot write {}", conf.string());
        return core::fail(hsm_error::token_init_failed);
    }
    return conf;
}

}  // namespace secms::hsm

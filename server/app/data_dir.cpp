#include "server/app/data_dir.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace secms::app {

namespace fs = std::filesystem;

namespace {

// Closes a descriptor on every path out.
class unique_fd {
  public:
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

bool ensure_private_directory(const fs::path& dir, std::string& error, directory_links links) {
    std::error_code ec;
    auto status = fs::symlink_status(dir, ec);
    if (status.type() == fs::file_type::not_found) {
        fs::create_directories(dir, ec);
        if (ec) {
            error = "cannot create " + dir.string() + ": " + ec.message();
            return false;
        }
    }
    // Every check and the chmod act on one opened directory, so that nothing can be swapped in
    // between. O_NOFOLLOW: a link planted where a subdirectory belongs would otherwise have its
    // target made ours (chmod) and our secrets written there.
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    if (links == directory_links::refuse) flags |= O_NOFOLLOW;
    unique_fd fd(::open(dir.c_str(), flags));
    if (fd.get() < 0) {
        int err = errno;
        if (err == ELOOP || (err == ENOTDIR && links == directory_links::refuse &&
                             fs::is_symlink(fs::symlink_status(dir, ec)))) {
            error = dir.string() +
                    " is a symbolic link; it must be a directory of its own (remove the link)";
        } else if (err == ENOTDIR) {
            error = dir.string() + " is not a directory";
        } else {
            error = "cannot open " + dir.string() + ": " + std::strerror(err);
        }
        return false;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = dir.string() + " is not a directory";
        return false;
    }
    // A directory another account owns can be emptied, swapped or read by it whatever its mode:
    // its owner may chmod it back at any time. Root is no exception (the finding: a 0777
    // directory of nobody was only chmod'ed).
    if (st.st_uid != ::geteuid()) {
        error = dir.string() + " is owned by uid " + std::to_string(st.st_uid) +
                ", not by this server's user (uid " + std::to_string(::geteuid()) +
                "); chown it to that user or choose another directory";
        return false;
    }
    if ((st.st_mode & 077) != 0 && ::fchmod(fd.get(), 0700) != 0) {
        error = dir.string() + " is readable by other users and cannot be made private";
        return false;
    }
    return true;
}

namespace {

// Writes a new file that only the owner may read; fails if it exists.
bool write_private_file(const fs::path& file, std::string_view content, std::string& error) {
    // O_EXCL already refuses an existing link; O_NOFOLLOW says so for the reader.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "cannot create " + file.string();
        return false;
    }
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n <= 0) {
            ::close(fd);
            error = "cannot write " + file.string();
            return false;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    return true;
}

struct evp_pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};
struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct x509v3_ext_free {
    void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

bool add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, x509v3_ext_free> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

bool ensure_self_signed_certificate(const fs::path& certificate, const fs::path& private_key,
                                    std::string& error) {
    std::error_code ec;
    bool have_cert = fs::exists(certificate, ec);
    bool have_key = fs::exists(private_key, ec);
    if (have_cert && have_key) return true;
    if (have_cert != have_key) {
        error = "only one of " + certificate.string() + " and " + private_key.string() +
                " exists; provide both or neither";
        return false;
    }
    if (!ensure_private_directory(certificate.parent_path(), error, directory_links::refuse))
        return false;

    std::unique_ptr<EVP_PKEY, evp_pkey_free> key(EVP_EC_gen("P-256"));
    std::unique_ptr<X509, x509_free> cert(X509_new());
    if (!key || !cert) {
        error = "cannot generate the TLS key";
        return false;
    }
    X509_set_version(cert.get(), 2);
    // A random 159-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets).
    core::secure_bytes serial_bytes = core::random_secret(20);
    serial_bytes.mutable_view()[0] &= 0x7f;
    BIGNUM* serial_bn = BN_bin2bn(serial_bytes.data(), 20, nullptr);
    BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert.get()));
    BN_free(serial_bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 397L * 24 * 60 * 60);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Security.MS (self-signed)"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    bool ok = add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
              add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
              add_extension(cert.get(), NID_ext_key_usage, "serverAuth") &&
              add_extension(cert.get(), NID_subject_alt_name,
                            "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1") &&
              X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    if (!ok) {
        error = "cannot build the self-signed TLS certificate";
        return false;
    }
    std::unique_ptr<BIO, bio_free> key_pem(BIO_new(BIO_s_mem()));
    std::unique_ptr<BIO, bio_free> cert_pem(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1 ||
        PEM_write_bio_X509(cert_pem.get(), cert.get()) != 1) {
        error = "cannot encode the TLS certificate";
        return false;
    }
    std::string key_text = bio_text(key_pem.get());
    bool written = write_private_file(private_key, key_text, error) &&
                   write_private_file(certificate, bio_text(cert_pem.get()), error);
    core::wipe(key_text.data(), key_text.size());
    return written;
}

bool load_or_create_pin(const fs::path& file, bool create, core::secret_string& pin,
                        std::string& error) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        if (!create) {
            error = "the HSM PIN file " + file.string() + " does not exist";
            return false;
        }
        if (!ensure_private_directory(file.parent_path(), error, directory_links::refuse))
            return false;
        std::string fresh = core::random_token(24);
        bool ok = write_private_file(file, fresh + "\n", error);
        core::wipe(fresh.data(), fresh.size());
        if (!ok) return false;
    }
    auto perms = fs::status(file, ec).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        error = "the HSM PIN file " + file.string() + " must not be readable by others (chmod 600)";
        return false;
    }
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    if (line.empty()) {
        error = "the HSM PIN file " + file.string() + " is empty";
        return false;
    }
    pin = core::secret_string(std::move(line));
    return true;
}

namespace {

bool is_lower_hex_64(std::string_view text) {
    return text.size() == 64 &&
           text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::optional<core::secret_string> load_or_create_hex_secret(const fs::path& file,
                                                             std::string_view what,
                                                             std::string& error) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        if (!ensure_private_directory(file.parent_path(), error, directory_links::refuse))
            return std::nullopt;
        auto fresh = calls::turn_secret::generate();
        std::string text = std::string(fresh.reveal()) + "\n";
        bool ok = write_private_file(file, text, error);
        core::wipe(text.data(), text.size());
        if (!ok) return std::nullopt;
    }
    const std::string name = std::string(what) + " file " + file.string();
    if (!fs::is_regular_file(file, ec)) {
        error = "the " + name + " is not a regular file";
        return std::nullopt;
    }
    auto perms = fs::status(file, ec).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        error = "the " + name + " must not be readable by others (chmod 600)";
        return std::nullopt;
    }
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    // Anything after the first line is a sign of a file that is not ours: refuse it too.
    char extra = 0;
    bool more = static_cast<bool>(in.get(extra));
    if (!in.eof() && !more) {
        core::wipe(line.data(), line.size());
        error = "cannot read the " + name;
        return std::nullopt;
    }
    if (!is_lower_hex_64(line) || more) {
        core::wipe(line.data(), line.size());
        // The content is never repeated: it may be a secret of some other kind.
        error = "the " + name +
                " must hold one line of 64 lower-case hex characters (remove it to make a new one)";
        return std::nullopt;
    }
    return core::secret_string(std::move(line));
}

std::optional<calls::turn_secret> load_or_create_turn_secret(const fs::path& file,
                                                             std::string& error) {
    auto text = load_or_create_hex_secret(file, "TURN secret", error);
    if (!text) return std::nullopt;
    auto secret = calls::turn_secret::parse(text->reveal());
    if (!secret) {
        error = "the TURN secret file " + file.string() +
                " must hold one line of 64 lower-case hex characters (remove it to make a new one)";
        return std::nullopt;
    }
    return std::move(*secret);
}

bool read_secret_file(const fs::path& file, std::string_view what, core::secret_string& out,
                      std::string& error) {
    std::error_code ec;
    const std::string name = std::string(what) + " file " + file.string();
    if (!fs::is_regular_file(file, ec)) {
        error = "the " + name + " does not exist or is not a regular file";
        return false;
    }
    auto perms = fs::status(file, ec).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        error = "the " + name + " must not be readable by others (chmod 600)";
        return false;
    }
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
        error = "the " + name + " is empty";
        return false;
    }
    out = core::secret_string(std::move(line));
    return true;
}

}  // namespace secms::app

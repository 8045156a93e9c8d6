#include "server/core/secure_bytes.hpp"

#include <sodium.h>

#include <ostream>

namespace secms::core {

namespace {
// libsodium must be initialised once before use; sodium_init is idempotent and thread-safe.
[[maybe_unused]] const int sodium_ready = sodium_init();
}  // namespace

void wipe(void* data, std::size_t size) noexcept {
    if (data != nullptr && size > 0) sodium_memzero(data, size);
}

secure_bytes::secure_bytes(std::size_t size) : bytes_(size, 0) {}

secure_bytes::secure_bytes(std::span<const std::uint8_t> data) : bytes_(data.begin(), data.end()) {}

secure_bytes::~secure_bytes() {
    clear();
}

secure_bytes::secure_bytes(secure_bytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
}

secure_bytes& secure_bytes::operator=(secure_bytes&& other) noexcept {
    if (this != &other) {
        clear();
        bytes_ = std::move(other.bytes_);
        other.bytes_.clear();
    }
    return *this;
}

void secure_bytes::clear() noexcept {
    wipe(bytes_.data(), bytes_.size());
    bytes_.clear();
}

bool secure_bytes::equals(std::span<const std::uint8_t> other) const noexcept {
    if (other.size() != bytes_.size()) return false;
    if (bytes_.empty()) return true;
    return sodium_memcmp(bytes_.data(), other.data(), bytes_.size()) == 0;
}

secret_string::~secret_string() {
    wipe(value_.data(), value_.size());
}

secret_string::secret_string(secret_string&& other) noexcept : value_(std::move(other.value_)) {
    wipe(other.value_.data(), other.value_.size());
    other.value_.clear();
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
    if (this != &other) {
        wipe(value_.data(), value_.size());
        value_ = std::move(other.value_);
        wipe(other.value_.data(), other.value_.size());
        other.value_.clear();
    }
    return *this;
}

std::ostream& operator<<(std::ostream& os, const secure_bytes& b) {
    return os << "[redacted " << b.size() << " bytes]";
}

std::ostream& operator<<(std::ostream& os, const secret_string&) {
    return os << "[redacted]";
}

secure_bytes random_secret(std::size_t size) {
    secure_bytes out(size);
    randombytes_buf(out.data(), out.size());
    return out;
}

std::string random_token(std::size_t bytes) {
    secure_bytes raw = random_secret(bytes);
    std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

std::string to_hex(std::span<const std::uint8_t> data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (std::uint8_t b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

}  // namespace secms::core

// Byte buffers that hold secrets: wiped on destruction, printed redacted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secms::core {

// Wipes memory in a way the optimiser may not remove (libsodium's sodium_memzero).
void wipe(void* data, std::size_t size) noexcept;

// Owns secret bytes (keys, MACs, tokens). Copy is explicit, every buffer it held is wiped.
class secure_bytes {
  public:
    secure_bytes() = default;
    explicit secure_bytes(std::size_t size);
    explicit secure_bytes(std::span<const std::uint8_t> data);
    ~secure_bytes();

    secure_bytes(secure_bytes&& other) noexcept;
    secure_bytes& operator=(secure_bytes&& other) noexcept;
    secure_bytes(const secure_bytes&) = delete;
    secure_bytes& operator=(const secure_bytes&) = delete;

    secure_bytes clone() const { return secure_bytes(view()); }

    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return bytes_.empty(); }
    std::span<const std::uint8_t> view() const noexcept { return bytes_; }
    std::span<std::uint8_t> mutable_view() noexcept { return bytes_; }

    // Constant-time comparison.
    bool equals(std::span<const std::uint8_t> other) const noexcept;

  private:
    void clear() noexcept;
    std::vector<std::uint8_t> bytes_;
};

// A secret string (password, PIN, cookie value): wiped on destruction, printed redacted.
class secret_string {
  public:
    secret_string() = default;
    explicit secret_string(std::string value) : value_(std::move(value)) {}
    ~secret_string();
    secret_string(secret_string&& other) noexcept;
    secret_string& operator=(secret_string&& other) noexcept;
    secret_string(const secret_string&) = delete;
    secret_string& operator=(const secret_string&) = delete;

    // The only way to read the secret; the name makes each use visible in review.
    std::string_view reveal() const noexcept { return value_; }
    std::size_t size() const noexcept { return value_.size(); }
    bool empty() const noexcept { return value_.empty(); }

  private:
    std::string value_;
};

std::ostream& operator<<(std::ostream& os, const secure_bytes& b);
std::ostream& operator<<(std::ostream& os, const secret_string& s);

// Random bytes from libsodium's CSPRNG.
secure_bytes random_secret(std::size_t size);
// URL-safe base64 (no padding) of random bytes: for cookies and ids.
std::string random_token(std::size_t bytes);

std::string to_hex(std::span<const std::uint8_t> data);

}  // namespace secms::core

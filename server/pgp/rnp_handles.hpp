// Private to server/pgp: each librnp handle wrapped once, destroyed exactly once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

namespace secms::pgp::detail {

template <class T, rnp_result_t (*Destroy)(T)>
class rnp_handle {
  public:
    rnp_handle() = default;
    ~rnp_handle() { reset(); }
    rnp_handle(rnp_handle&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
    rnp_handle& operator=(rnp_handle&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = other.handle_;
            other.handle_ = nullptr;
        }
        return *this;
    }
    rnp_handle(const rnp_handle&) = delete;
    rnp_handle& operator=(const rnp_handle&) = delete;

    T get() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // For rnp's out-parameters: releases what was held first.
    T* out() noexcept {
        reset();
        return &handle_;
    }
    void reset() noexcept {
        if (handle_ != nullptr) {
            (void)Destroy(handle_);  // nothing useful to do if destroying fails
            handle_ = nullptr;
        }
    }

  private:
    T handle_ = nullptr;
};

using ffi_handle = rnp_handle<rnp_ffi_t, rnp_ffi_destroy>;
using input_handle = rnp_handle<rnp_input_t, rnp_input_destroy>;
using output_handle = rnp_handle<rnp_output_t, rnp_output_destroy>;
using key_handle = rnp_handle<rnp_key_handle_t, rnp_key_handle_destroy>;
using signature_handle = rnp_handle<rnp_signature_handle_t, rnp_signature_handle_destroy>;
using uid_handle = rnp_handle<rnp_uid_handle_t, rnp_uid_handle_destroy>;
using verify_handle = rnp_handle<rnp_op_verify_t, rnp_op_verify_destroy>;

// A string or buffer allocated by rnp, released with rnp_buffer_destroy.
class rnp_string {
  public:
    rnp_string() = default;
    ~rnp_string() { rnp_buffer_destroy(data_); }
    rnp_string(const rnp_string&) = delete;
    rnp_string& operator=(const rnp_string&) = delete;

    char** out() noexcept {
        rnp_buffer_destroy(data_);
        data_ = nullptr;
        return &data_;
    }
    std::string_view view() const noexcept {
        return data_ != nullptr ? std::string_view(data_) : std::string_view();
    }
    std::string str() const { return std::string(view()); }

  private:
    char* data_ = nullptr;
};

inline bool succeeded(rnp_result_t r) noexcept {
    return r == RNP_SUCCESS;
}

// A fresh in-memory keyring whose notion of "now" is now_unix (validity, expiry, signatures).
inline std::optional<ffi_handle> make_ffi(std::int64_t now_unix) {
    ffi_handle f;
    if (!succeeded(rnp_ffi_create(f.out(), "GPG", "GPG"))) {
        return std::nullopt;
    }
    // rnp reads 0 as "use the system clock"; a check is always made at a given time.
    const auto when = static_cast<std::uint64_t>(now_unix > 0 ? now_unix : 1);
    if (!succeeded(rnp_set_timestamp(f.get(), when))) {
        return std::nullopt;
    }
    return f;
}

// An rnp input reading caller-owned memory (not copied: the bytes must outlive the input).
inline std::optional<input_handle> memory_input(std::span<const std::uint8_t> bytes) {
    input_handle in;
    // rnp rejects a null pointer even for zero bytes.
    static const std::uint8_t nothing = 0;
    const std::uint8_t* data = bytes.empty() ? &nothing : bytes.data();
    if (!succeeded(rnp_input_from_memory(in.out(), data, bytes.size(), false))) {
        return std::nullopt;
    }
    return in;
}

inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Weak for signatures whatever rnp's own security rules say (RFC 9580 §9.5: SHA-1 and MD5
// must not be used for signatures; RIPEMD-160 is deprecated alongside them).
inline bool is_weak_hash(std::string_view rnp_hash_name) noexcept {
    return rnp_hash_name == RNP_ALGNAME_SHA1 || rnp_hash_name == RNP_ALGNAME_MD5 ||
           rnp_hash_name == RNP_ALGNAME_RIPEMD160;
}

}  // namespace secms::pgp::detail

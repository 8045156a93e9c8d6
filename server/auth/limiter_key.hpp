// Fixed-size keys for the throttling tables. A client chooses the text a limiter counts by (a
// username, an address); stored as it is, 64 KiB names would make a 100k-entry table cost
// gigabytes. Each key is instead a 128-bit keyed BLAKE2b hash (libsodium crypto_generichash)
// under a random key made once per process, so its size is fixed and nobody outside the process
// can aim two names at one bucket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace secms::auth {

using limiter_key = std::array<std::uint8_t, 16>;

// The key of one text, or of an ordered pair (account and address); the parts are length-framed,
// so ("ab", "c") and ("a", "bc") differ.
limiter_key make_limiter_key(std::string_view part);
limiter_key make_limiter_key(std::string_view first, std::string_view second);

struct limiter_key_hash {
    std::size_t operator()(const limiter_key& k) const noexcept {
        std::size_t h = 0;
        std::memcpy(&h, k.data(), sizeof h);  // already uniformly random
        return h;
    }
};

}  // namespace secms::auth

#include "server/auth/limiter_key.hpp"

#include <sodium.h>

namespace secms::auth {
namespace {

const std::array<std::uint8_t, crypto_generichash_KEYBYTES>& process_key() {
    static const auto key = [] {
        std::array<std::uint8_t, crypto_generichash_KEYBYTES> k{};
        if (sodium_init() < 0) std::abort();  // no randomness: nothing safe can run
        randombytes_buf(k.data(), k.size());
        return k;
    }();
    return key;
}

void absorb(crypto_generichash_state& state, std::string_view part) {
    std::uint64_t length = part.size();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&length),
                              sizeof length);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
}

}  // namespace

limiter_key make_limiter_key(std::string_view part) {
    const auto& key = process_key();
    crypto_generichash_state state;
    crypto_generichash_init(&state, key.data(), key.size(), sizeof(limiter_key));
    absorb(state, part);
    limiter_key out{};
    crypto_generichash_final(&state, out.data(), out.size());
    return out;
}

limiter_key make_limiter_key(std::string_view first, std::string_view second) {
    const auto& key = process_key();
    crypto_generichash_state state;
    crypto_generichash_init(&state, key.data(), key.size(), sizeof(limiter_key));
    absorb(state, first);
    absorb(state, second);
    limiter_key out{};
    crypto_generichash_final(&state, out.data(), out.size());
    return out;
}

}  // namespace secms::auth

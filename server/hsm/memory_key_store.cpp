// A software key store for unit tests of other modules only (auth tests and the like): the key
// is a random value in process memory, which is exactly what the real key store exists to
// avoid. The server never uses it; it opens the PKCS#11 token.
#include <sodium.h>

#include <cstdlib>

#include "server/hsm/key_store.hpp"

namespace secms::hsm {

namespace {

class memory_key_store final : public key_store {
  public:
    memory_key_store() : key_(core::random_secret(crypto_auth_hmacsha256_KEYBYTES)) {}

    int current_pepper_version() const override { return 1; }

    core::result<std::array<std::uint8_t, 32>, hsm_error> pepper_mac(
        int version, std::span<const std::uint8_t> data) override {
        if (version != 1) return core::fail(hsm_error::key_missing);
        static_assert(crypto_auth_hmacsha256_BYTES == 32);
        std::array<std::uint8_t, 32> mac{};
        // The key is only read, so concurrent calls need no lock.
        crypto_auth_hmacsha256(mac.data(), data.data(), data.size(), key_.data());
        return mac;
    }

  private:
    const core::secure_bytes key_;
};

}  // namespace

std::unique_ptr<key_store> make_memory_key_store() {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing safe to hand out
    return std::make_unique<memory_key_store>();
}

}  // namespace secms::hsm

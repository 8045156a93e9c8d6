// Fuzz target: the TOML configuration loader (app::apply_toml) over any document. It must never
// crash or throw; a refused document must say why, and an accepted one must load again the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/app/cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Flags "given on the command line" depend on the input, so both branches of every key are
    // reached: a key is taken as given when its flag's length is odd and the input's size is.
    const auto given = [size](const std::string& flag) { return (flag.size() & size & 1u) != 0; };
    secms::app::config settings;
    std::string error;
    if (!secms::app::apply_toml(text, settings, given, error)) {
        if (error.empty()) std::abort();  // every refusal names its reason
        return 0;
    }
    return 0;
}

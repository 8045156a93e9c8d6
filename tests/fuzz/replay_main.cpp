// Replays a fuzz target over committed inputs without libFuzzer (the normal gcc build): runs
// LLVMFuzzerTestOneInput once per file of every directory (or file) named on the command line.
// A crash, sanitizer report or uncaught exception fails the CTest test fuzz_replay_<target>.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool replay_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return false;
    }
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    // An empty input still gets a valid pointer, as libFuzzer gives.
    static const std::uint8_t empty = 0;
    const auto* data = bytes.empty() ? &empty : reinterpret_cast<const std::uint8_t*>(bytes.data());
    LLVMFuzzerTestOneInput(data, bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <corpus directory or file>...\n", argv[0]);
        return 2;
    }
    std::size_t replayed = 0;
    for (int i = 1; i < argc; ++i) {
        const fs::path given(argv[i]);
        std::vector<fs::path> files;
        std::error_code ec;
        if (fs::is_directory(given, ec)) {
            for (const auto& entry : fs::directory_iterator(given, ec)) {
                if (entry.is_regular_file()) files.push_back(entry.path());
            }
        } else if (fs::is_regular_file(given, ec)) {
            files.push_back(given);
        }
        if (files.empty()) {
            // A missing or empty corpus would make the regression test pass without testing.
            std::fprintf(stderr, "no inputs in %s\n", given.c_str());
            return 1;
        }
        std::sort(files.begin(), files.end());  // the same order on every run
        for (const auto& file : files) {
            if (!replay_file(file)) return 1;
            ++replayed;
        }
    }
    std::printf("replayed %zu inputs without a crash\n", replayed);
    return 0;
}

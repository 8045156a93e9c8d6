#include "server/http/static_files.hpp"

#include <fstream>
#include <iterator>
#include <system_error>

namespace secms::http {

namespace {
constexpr std::uintmax_t max_file_size = 16 * 1024 * 1024;
}

static_files::static_files(std::filesystem::path root) {
    std::error_code ec;
    root_ = std::filesystem::weakly_canonical(root, ec);
    if (ec) root_ = std::move(root);
}

std::string_view content_type_for(const std::filesystem::path& file) {
    auto ext = file.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json") return "application/json";
    if (ext == ".webmanifest") return "application/manifest+json";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".woff2") return "font/woff2";
    if (ext == ".wav") return "audio/wav";
    if (ext == ".mp3") return "audio/mpeg";
    if (ext == ".txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

std::optional<response> static_files::serve(std::string_view path, unsigned version,
                                            bool head_only) const {
    std::string relative(path.substr(1));
    if (relative.empty()) relative = "index.html";
    std::filesystem::path candidate = root_ / relative;
    std::error_code ec;
    auto resolved = std::filesystem::canonical(candidate, ec);
    if (ec) return std::nullopt;
    // Symbolic links may not lead out of the root.
    auto [root_end, unused] =
        std::mismatch(root_.begin(), root_.end(), resolved.begin(), resolved.end());
    (void)unused;
    if (root_end != root_.end()) return std::nullopt;
    // Directories are never listed.
    if (!std::filesystem::is_regular_file(resolved, ec) || ec) return std::nullopt;
    auto size = std::filesystem::file_size(resolved, ec);
    if (ec || size > max_file_size) return std::nullopt;

    response res{beast_http::status::ok, version};
    res.set(beast_http::field::content_type, content_type_for(resolved));
    if (!head_only) {
        std::ifstream in(resolved, std::ios::binary);
        if (!in) return std::nullopt;
        res.body().assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    res.content_length(size);
    return res;
}

}  // namespace secms::http

// Serves the built front end (web/dist) read-only: no directory listing, no traversal, no file
// outside the root even through a symbolic link.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "server/http/types.hpp"

namespace secms::http {

class static_files {
  public:
    explicit static_files(std::filesystem::path root);

    // A 200 response with the file, or nullopt when no file of the root answers `path`
    // (already normalised by normalise_request_path).
    std::optional<response> serve(std::string_view path, unsigned version, bool head_only) const;

    const std::filesystem::path& root() const noexcept { return root_; }

  private:
    std::filesystem::path root_;
};

std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace secms::http

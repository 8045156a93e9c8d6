// Request-target normalisation for static files: the one place that decides which file a URL
// may name. Refuses anything that could leave the web root.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace secms::http {

// Returns the decoded path ("/assets/app-1a2b.js") without query or fragment, or nullopt when the
// target is not an origin-form path (RFC 9112 §3.2.1), is too long, holds a NUL, a backslash, a
// control character, an invalid percent escape, an encoded '/', or a '.' / '..' segment.
std::optional<std::string> normalise_request_path(std::string_view target);

}  // namespace secms::http

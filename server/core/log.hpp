// Structured logging (spdlog). Secrets never reach a log: secret types print redacted and
// log lines never take request bodies, cookies or headers carrying credentials.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace secms::core {

enum class log_format { text, json };

// Sets up the process-wide logger: level ("trace".."off") and format.
void init_logging(std::string_view level, log_format format);

// Escapes a string for a JSON log field; control characters are replaced, so a user-supplied
// value cannot forge log lines.
std::string log_escape(std::string_view s);

}  // namespace secms::core

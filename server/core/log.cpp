#include "server/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace secms::core {

void init_logging(std::string_view level, log_format format) {
    auto logger = spdlog::stderr_color_mt("secms");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    if (format == log_format::json) {
        logger->set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");
    }
    spdlog::set_default_logger(logger);
}

std::string log_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
            out.push_back('?');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace secms::core

// Command line of secms-server: `serve` (the default), `init` and the `user` administration
// subcommands.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "server/app/config.hpp"

namespace secms::app {

enum class command {
    serve,
    init,  // first-run set-up of the data directory, then exit
    user_add,
    user_passwd,
    user_role,
    user_disable,
    user_enable,
    user_list,
    user_delete
};

struct invocation {
    command what = command::serve;
    config settings;
    std::string username;
    std::string role;
};

// Parses argv and the TOML file it names. Returns the process exit code to use when the program
// should stop now (help printed, or an error, already reported on stderr), else -1.
int parse_command_line(int argc, char** argv, invocation& out);

// Applies a TOML document to `settings`, skipping keys whose flag was given on the command line
// (`given` is asked with the flag name, e.g. "https-port"). Unknown keys are errors.
bool apply_toml(std::string_view toml_text, config& settings,
                const std::function<bool(const std::string&)>& given, std::string& error);

}  // namespace secms::app

// First-run set-up of the data directory (mode 0700): the SQLite database is made by the store,
// the SoftHSM2 token by the hsm module; this file makes the rest. Every secret file is 0600.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "server/calls/turn_credentials.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::app {

// Whether `dir` itself may be a symbolic link: the data directory may be one (the operator's
// layout), the directories this server makes inside it may not.
enum class directory_links { follow, refuse };

// Creates `dir` (and parents) if missing and makes it 0700. Refuses a directory not owned by the
// effective user id (its owner could swap or read it whatever its mode) and, with
// directory_links::refuse, a symbolic link in place of the directory.
bool ensure_private_directory(const std::filesystem::path& dir, std::string& error,
                              directory_links links = directory_links::follow);

// Makes a self-signed certificate for localhost (EC P-256, SAN localhost, 127.0.0.1, ::1) when
// neither file exists. A real deployment points tls_certificate/tls_private_key at its own.
bool ensure_self_signed_certificate(const std::filesystem::path& certificate,
                                    const std::filesystem::path& private_key, std::string& error);

// Reads a PIN file; when missing and `create` is true, writes a new random PIN to it (0600).
bool load_or_create_pin(const std::filesystem::path& file, bool create, core::secret_string& pin,
                        std::string& error);

// Reads the secret shared with the TURN server; when missing, writes a new one (64 lower-case hex
// characters, 0600, its directory 0700). Refuses a file others may read or of another form.
std::optional<calls::turn_secret> load_or_create_turn_secret(const std::filesystem::path& file,
                                                             std::string& error);

// The same for any secret of that form (`what` names it in errors: "mail master secret"); the
// TURN secret and the mail master secret share it.
std::optional<core::secret_string> load_or_create_hex_secret(const std::filesystem::path& file,
                                                             std::string_view what,
                                                             std::string& error);

// Reads the first line of an existing secret file (a password) that others may not read.
bool read_secret_file(const std::filesystem::path& file, std::string_view what,
                      core::secret_string& out, std::string& error);

}  // namespace secms::app

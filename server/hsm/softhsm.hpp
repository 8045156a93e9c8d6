// The embedded SoftHSM2 token (DESIGN.md §2): a token directory inside the data directory.
#pragma once

#include <filesystem>

#include "server/core/result.hpp"
#include "server/hsm/key_store.hpp"

namespace secms::hsm {

// Makes `dir` ready for SoftHSM2: creates dir and dir/tokens (both made owner-only, 0700, as they
// hold the token's files; so give it a directory of its own) and, unless it exists already,
// dir/softhsm2.conf (mode 0600) pointing SoftHSM2 at that token directory. Idempotent: an
// existing configuration file is left as the operator may have edited it. Returns the
// absolute path of the configuration file, or token_init_failed.
//
// SoftHSM2 reads its configuration from the file named by the SOFTHSM2_CONF environment
// variable when the module is initialised, so the caller sets it before the first
// open_pkcs11_key_store of the process:
//     auto conf = prepare_softhsm(data_dir / "softhsm");
//     ::setenv("SOFTHSM2_CONF", conf->c_str(), 1);
core::result<std::filesystem::path, hsm_error> prepare_softhsm(const std::filesystem::path& dir);

}  // namespace secms::hsm

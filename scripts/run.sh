#!/usr/bin/env bash
# Installs what is missing, builds, initialises the data directory on first run (SQLite database,
# SoftHSM2 token, self-signed TLS certificate for localhost) and serves https://localhost:8443.
# Extra arguments go to secms-server (see `build/release/server/app/secms-server --help`).
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" release
cd "$ROOT"
say "serving https://localhost:8443 (plain http://localhost:8080 redirects there); Ctrl-C stops"
exec build/release/server/app/secms-server --data-dir "${SECMS_DATA_DIR:-$ROOT/data}" \
  --web-root "$ROOT/web/dist" --https-port 8443 --http-port 8080 "$@"

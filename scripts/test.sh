#!/usr/bin/env bash
# Installs, builds and runs every test: C++ (CTest), JavaScript unit tests, integration tests
# against the real server binary, and browser end-to-end tests in Debian's Chromium.
# Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" dev
cd "$ROOT"
export SECMS_SERVER_BIN="$ROOT/build/dev/server/app/secms-server"

status=0
run() {
  local name="$1"; shift
  say "$name"
  if ! "$@"; then
    say "FAILED: $name"
    status=1
  fi
}
run "C++ unit tests (CTest)" ctest --preset dev -j"$(nproc)"
run "JavaScript unit tests" node --test web/test/
run "integration tests (real server)" node --test --test-concurrency=1 tests/integration/
run "browser end-to-end tests (Chromium)" node --test --test-concurrency=1 tests/e2e/
run "relay benchmark smoke run" node --test bench/relay/smoke.test.mjs
exit "$status"

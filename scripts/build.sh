#!/usr/bin/env bash
# Builds the server (CMake preset given as $1, default dev) and the front end (web/dist).
source "$(dirname "$0")/lib.sh"
preset="${1:-dev}"
cd "$ROOT"
say "building secms-server (preset $preset)"
cmake --preset "$preset" >/dev/null
# The release build serves (scripts/run.sh): only the server, not the test programs, so it is
# quicker and a test-only warning of the optimising compiler cannot stop the service from starting.
if [ "$preset" = release ]; then
  cmake --build --preset "$preset" -j"$(nproc)" --target secms-server
else
  cmake --build --preset "$preset" -j"$(nproc)"
fi
say "building the front end"
npm run --silent build

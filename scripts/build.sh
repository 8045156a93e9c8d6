#!/usr/bin/env bash
# Builds the server (CMake preset given as $1, default dev) and the front end (web/dist).
source "$(dirname "$0")/lib.sh"
preset="${1:-dev}"
cd "$ROOT"
say "building secms-server (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
say "building the front end"
npm run --silent build

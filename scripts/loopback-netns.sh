#!/usr/bin/env bash
# Runs a command in a new network namespace that has only the loopback interface (DESIGN.md §9):
# WebRTC in the call tests then gathers only 127.0.0.1 candidates, and nothing a test starts can
# reach or be reached from another address. Needs root (or sudo): unshare(CLONE_NEWNET).
#   scripts/loopback-netns.sh node --test tests/calls/
source "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || { echo "usage: $0 command [args…]" >&2; exit 2; }
if [ "$(id -u)" -eq 0 ]; then
  exec unshare --net -- bash -c 'ip link set lo up && exec "$@"' loopback-netns "$@"
fi
# Through sudo, keeping the caller's environment (SECMS_SERVER_BIN, CI, PATH for node).
exec sudo --preserve-env env "PATH=$PATH" unshare --net -- bash -c 'ip link set lo up && exec "$@"' loopback-netns "$@"

#!/usr/bin/env bash
# Installs, builds and runs every test: C++ (CTest), JavaScript unit tests, integration tests
# against the real server binary, and browser end-to-end tests in Debian's Chromium.
# Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install-deps.sh" --tests
"$ROOT/scripts/build.sh" dev
cd "$ROOT"
export SECMS_SERVER_BIN="$ROOT/build/dev/server/app/secms-server"

status=0
passed=0
failed=0
step_log="$(mktemp)"
trap 'rm -f "$step_log"' EXIT
# Runs one suite, shows its output, and adds its counts (CTest's or node's test runner's) to the
# totals printed at the end.
run() {
  local name="$1"; shift
  say "$name"
  local ok=1 started=$SECONDS
  if ! "$@" 2>&1 | tee "$step_log"; then
    say "FAILED: $name"
    status=1
    ok=0
  fi
  tally "$step_log" "$ok"
  timings+="$(printf '%5d s  %s' $((SECONDS - started)) "$name")"$'\n'
}
# How long each step took, printed at the end: the whole suite must stay well under 30 minutes.
timings=""
# Adds the counts of one suite's log to the totals; $2 is 0 when the suite's command failed.
tally() {
  local step_log="$1" ok="$2" p f
  if grep -q "tests passed, " "$step_log"; then
    local line total
    line=$(grep -E "[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+" "$step_log" | tail -1 || true)
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    p=$(( ${total:-0} - ${f:-0} ))
  else
    p=$(grep -E "^# pass [0-9]+" "$step_log" | tail -1 | awk '{print $3}' || true)
    f=$(grep -E "^# fail [0-9]+" "$step_log" | tail -1 | awk '{print $3}' || true)
  fi
  # A suite that failed without counting its failures (it crashed) still counts as one.
  if [ "$ok" = 0 ] && [ "${f:-0}" = 0 ]; then f=1; fi
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
}
# Suites run in the background beside a foreground one: their output goes to a log of their
# own, shown and counted when they are collected (collect_background).
background_logs=()
trap 'rm -f "$step_log" "${background_logs[@]}"' EXIT
declare -A background_pid background_log background_started
start_background() {
  local name="$1"; shift
  local log
  log="$(mktemp)"
  background_logs+=("$log")
  say "$name (in the background)"
  background_log["$name"]="$log"
  background_started["$name"]=$SECONDS
  "$@" >"$log" 2>&1 &
  background_pid["$name"]=$!
}
collect_background() {
  local name="$1" ok=1
  wait "${background_pid[$name]}" || ok=0
  say "$name"
  cat "${background_log[$name]}"
  if [ "$ok" = 0 ]; then
    say "FAILED: $name"
    status=1
  fi
  tally "${background_log[$name]}" "$ok"
  timings+="$(printf '%5d s  %s (in the background)' $((SECONDS - background_started[$name])) "$name")"$'\n'
}

# The AddressSanitizer build (only the shutdown step needs it) and the JavaScript unit tests (CPU
# only) run at the lowest CPU priority beside CTest and the integration tests, which mostly wait
# on sockets and keep the CPU they need.
asan_build_log="$(mktemp)"
background_logs+=("$asan_build_log")
say "building secms-server under AddressSanitizer (asan preset, in the background)"
( cmake --preset asan >/dev/null && nice -n 19 cmake --build --preset asan --target secms-server -j"$(nproc)" ) >"$asan_build_log" 2>&1 &
asan_build_pid=$!
start_background "JavaScript unit tests" nice -n 19 node --test --test-concurrency=2 web/test/
run "C++ unit tests (CTest)" ctest --preset dev -j"$(nproc)"
# Two integration files at a time: each starts its own server on free ports and a data directory
# of its own, and most of their time is spent waiting on sockets, so two share the machine well.
run "integration tests (real server)" node --test --test-concurrency=2 tests/integration/
collect_background "JavaScript unit tests"
asan_built=0
wait "$asan_build_pid" || asan_built=$?
tail -n 5 "$asan_build_log"
run "shutdown under AddressSanitizer (asan preset)" bash -c '[ "$1" = 0 ] || { echo "the asan build failed (exit $1)"; exit 1; }; SECMS_SERVER_BIN="$PWD/build/asan/server/app/secms-server" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 node --test --test-concurrency=1 tests/integration/shutdown.test.mjs' asan-step "$asan_built"
# The SIP edge's own tests (real Kamailio, rtpengine and sipp; no browser, light on CPU) run
# beside the browser suite: they use free ports of their own.
start_background "SIP edge tests (Kamailio, rtpengine, sipp)" node --test --test-concurrency=1 tests/sip/sip-edge.test.mjs tests/sip/sip-edge-attacks.test.mjs
run "browser end-to-end tests (Chromium)" node --test --test-concurrency=1 tests/e2e/
collect_background "SIP edge tests (Kamailio, rtpengine, sipp)"
# WebRTC needs loopback ICE and must not reach a real interface: its own network namespace.
run "call tests (Chromium, WebRTC in a loopback-only network namespace)" bash scripts/loopback-netns.sh node --test --test-concurrency=1 tests/calls/ bench/calls/smoke.test.mjs
run "SIP phone tests (Chromium and baresip through Kamailio and rtpengine, in a loopback-only network namespace)" bash scripts/loopback-netns.sh node --test --test-concurrency=1 tests/sip/sip-browser.test.mjs tests/sip/sip-baresip.test.mjs
run "mail tests (real Dovecot, Chromium)" node --test --test-concurrency=1 tests/mail/ bench/mail/smoke.test.mjs
# The benchmark smoke runs take a few seconds each: on their own, not beside a browser suite's load.
run "benchmark smoke runs (relay, SIP edge)" node --test --test-concurrency=1 bench/relay/smoke.test.mjs tests/sip/sip-bench-smoke.test.mjs
say "all suites"
printf '%s' "$timings"
printf '%5d s  in all (install and build included)\n' "$SECONDS"
echo "${passed} passed, ${failed} failed"
exit "$status"

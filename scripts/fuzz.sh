#!/usr/bin/env bash
# Builds the `fuzz` preset (clang libFuzzer + ASan/UBSan, build/fuzz) and runs every fuzz target
# of tests/fuzz for [seconds] each (default 600), one after the other, each over its committed
# corpus. Inputs that reach new coverage go to build/fuzz/corpus/<target> (copy the ones worth
# keeping into tests/fuzz/corpus/<target>); a crash leaves its input in build/fuzz/artifacts and
# makes the script fail. Prints executions and coverage per target at the end.
# Usage: scripts/fuzz.sh [seconds] [target...]
source "$(dirname "$0")/lib.sh"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http control frames room pgp toml)

for tool in clang clang++; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "fuzz.sh: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

cd "$ROOT"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)"

# -max_len per target: a request with its body, a line-based message script, a few dozen
# frames, a certificate of the sizes users submit, a config file.
declare -A max_len=([http]=8192 [control]=8192 [frames]=4096 [room]=4096 [pgp]=16384 [toml]=4096)
declare -A dict=([http]=http.dict [control]=json.dict [room]=json.dict [toml]=toml.dict)

out="$ROOT/build/fuzz"
summary=""
status=0
for t in "${targets[@]}"; do
  bin="$out/tests/fuzz/${t}_fuzz"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  args=(-max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" -timeout=25 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/")
  if [ -n "${dict[$t]:-}" ]; then args+=(-dict="$ROOT/tests/fuzz/${dict[$t]}"); fi
  say "fuzzing $t for ${seconds} s"
  log="$out/fuzz-$t.log"
  # New inputs go to the first directory; the committed corpus is read, never written.
  if ! "$bin" "${args[@]}" "$out/corpus/$t" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    status=1
    tail -n 40 "$log"
    say "FAILED: $t (inputs in $out/artifacts/$t)"
  fi
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  summary+="$(printf '%-8s %12s execs  %s' "$t" "${execs:-?}" "${cov:-?}")"$'\n'
done
say "summary (${seconds} s per target)"
printf '%s' "$summary"
exit "$status"

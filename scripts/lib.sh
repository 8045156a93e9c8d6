# Shared helpers for scripts/*.sh. Sourced, not run.
set -euo pipefail

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }
ROOT="$(repo_root)"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian's packages of the companion services (coturn, dovecot) enable and start their own
# system service, which scripts/run.sh does not use (it starts its own instance). Stops and
# disables the system service "$1"; called by install-deps.sh only right after it installed the
# package, so an operator's own instance is never touched.
stop_system_service() {
  local name="$1"
  command -v systemctl >/dev/null 2>&1 || return 0
  if [ -d /run/systemd/system ] && systemctl is-active --quiet "$name" 2>/dev/null; then
    as_root systemctl stop "$name"
    say "stopped the $name system service the package started (scripts/run.sh starts its own)"
  fi
  if systemctl is-enabled --quiet "$name" 2>/dev/null; then
    as_root systemctl disable --quiet "$name" 2>/dev/null || true
    say "disabled the $name system service the package enabled (scripts/run.sh starts its own)"
  fi
}

# Fails with "<$1>: invalid <$2>: '<$3>'" unless "$3" matches the extended regex "$4". The
# configuration renderers check every value so that none can add a line or a setting.
# Callers add `|| return 1`: set -e does not act inside a function called from an && list.
render_check() {
  if ! [[ "$3" =~ $4 ]]; then
    echo "$1: invalid $2: '$3'" >&2
    return 1
  fi
}

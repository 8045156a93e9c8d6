#!/usr/bin/env bash
# Writes Postfix's table of accounts for the internet-facing layout (docs/operations.md
# "Internet-facing layout"; server/mail/postfix/main.cf.in's virtual_mailbox_maps) from
# secms-server's `user list`: one line "<name>@<domain> OK" an account, then postmap and
# `postfix reload`. Meant for cron, e.g. every minute as root:
#
#   * * * * * root /opt/secms/scripts/postfix-users.sh --run-as secms \
#       --server /opt/secms/bin/secms-server /var/lib/secms example.org /etc/postfix/secms-users
#
# Usage: postfix-users.sh [options] DATA_DIR DOMAIN TABLE
#   --server BIN           secms-server to run (default: secms-server on PATH, or $SECMS_SERVER)
#   --config FILE          secms-server's configuration file (--config), when it has one
#   --run-as ACCOUNT       run `user list` as ACCOUNT (root only): the account the server runs as,
#                          so no file of its data directory is made by root
#   --postfix-config DIR   Postfix's configuration directory (default /etc/postfix)
#   --no-reload            no `postfix reload` (when not root; running smtpd processes then take
#                          the new table after their next session, by its modification time)
#   --force                install an empty table even when the previous one was not empty
#
# It fails, leaving the previous table in place, when the data directory is missing or not
# initialised (no users.db), when `user list` fails, when a listed name is not one secms-server
# accepts, or when the table would become empty while it was not (every account would then get
# "550 5.1.1 User unknown" and its mail would bounce for good). The table is replaced atomically:
# Postfix reads either the old or the new one.
set -euo pipefail

usage() {
  sed -n '10,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
fail() {
  echo "postfix-users: $*" >&2
  exit 1
}

server="${SECMS_SERVER:-secms-server}"
config_file=""
run_as=""
postfix_config=/etc/postfix
reload=1
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --server) [ $# -ge 2 ] || usage; server="$2"; shift 2 ;;
    --config) [ $# -ge 2 ] || usage; config_file="$2"; shift 2 ;;
    --run-as) [ $# -ge 2 ] || usage; run_as="$2"; shift 2 ;;
    --postfix-config) [ $# -ge 2 ] || usage; postfix_config="$2"; shift 2 ;;
    --no-reload) reload=0; shift ;;
    --force) force=1; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -eq 3 ] || usage
data_dir="$1" domain="${2,,}" table="$3"

[[ "$domain" =~ ^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$ ]] ||
  fail "'$2' is not a domain name"
[[ "$data_dir" == /* ]] || fail "the data directory must be an absolute path (cron's working directory is not the server's): $data_dir"
[[ "$table" == /* ]] || fail "the table must be an absolute path: $table"
[[ "$table" != *[[:space:]]* ]] || fail "the table's path has a space: $table"
[ -d "$data_dir" ] || fail "the data directory $data_dir does not exist"
command -v postmap >/dev/null || fail "postmap is not installed (Debian's postfix)"

list_command=("$server" --data-dir "$data_dir")
[ -z "$config_file" ] || list_command+=(--config "$config_file")
list_command+=(--log-level warn user list)
if [ -n "$run_as" ]; then
  [ "$(id -u)" -eq 0 ] || fail "--run-as needs root"
  id -u "$run_as" >/dev/null 2>&1 || fail "no account $run_as"
  list_command=(setpriv --reuid="$run_as" --regid="$(id -g "$run_as")" --init-groups -- "${list_command[@]}")
else
  # Run as root without --run-as, a missing users.db is caught here (secms-server refuses it as
  # well, but root would see through a 0700 directory it should not write in).
  [ -f "$data_dir/users.db" ] || fail "$data_dir is not an initialised data directory (no users.db)"
fi

# One run at a time (cron may start the next while one still waits for the server).
exec {lock_fd}>"$table.lock"
flock -w 60 "$lock_fd" || fail "another run holds $table.lock"

# `user list` prints "<id>\t<name>\t<role>[\tdisabled]" a line. Its exit status is checked on its
# own (no pipe), so a failure never yields an empty table.
listing="$("${list_command[@]}")" || fail "secms-server user list failed (exit $?); the table is unchanged"

lines=()
while IFS=$'\t' read -r userid name _; do
  [ -n "$userid$name" ] || continue
  name="${name,,}"
  [[ "$userid" =~ ^[0-9]+$ && "$name" =~ ^[a-z0-9._-]{1,64}$ ]] ||
    fail "unexpected line in the output of user list; the table is unchanged"
  lines+=("$name@$domain OK")
done <<<"$listing"

previous=0
[ ! -f "$table" ] || previous="$(grep -c . "$table" || true)"
if [ "${#lines[@]}" -eq 0 ] && [ "$previous" -gt 0 ] && [ "$force" -ne 1 ]; then
  fail "user list gave no account while $table holds $previous; refusing to empty it (--force to do it)"
fi

# The new table and its .db beside the old ones, then renamed over them (.db first: Postfix reads
# only the .db).
tmp="$(mktemp "$table.new.XXXXXX")"
trap 'rm -f "$tmp" "$tmp.db"' EXIT
[ "${#lines[@]}" -eq 0 ] || printf '%s\n' "${lines[@]}" >"$tmp"
chmod 644 "$tmp"
postmap -c "$postfix_config" "hash:$tmp"
mv -f "$tmp.db" "$table.db"
mv -f "$tmp" "$table"
trap - EXIT

# Every smtpd takes the new table at once (postfix-script says "refreshing": kept quiet for cron).
if [ "$reload" -eq 1 ]; then
  reloaded="$(postfix -c "$postfix_config" reload 2>&1)" ||
    fail "postfix reload failed (the table is written): $reloaded"
fi

# Dovecot helpers for scripts/*.sh (DESIGN.md §11). Sourced after lib.sh, not run.
# The configuration template is server/mail/dovecot.conf.in; tests/helpers/dovecot.mjs calls
# dovecot_render below, so the tests and scripts/run.sh render it the same way.

DOVECOT_TEMPLATE="$ROOT/server/mail/dovecot.conf.in"

# Debian's dovecot-core package starts its own system service (IMAP on 143, /etc/dovecot).
stop_system_dovecot() { stop_system_service dovecot; }

# render_check for this renderer: dovecot_check NAME VALUE REGEX (callers add `|| return 1`).
dovecot_check() { render_check dovecot "$@"; }

DOVECOT_IP_RE='^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$'
DOVECOT_PORT_RE='^[0-9]{1,5}$'
# secms-server's user names are [A-Za-z0-9._-]; the master user is one too.
DOVECOT_USER_RE='^[A-Za-z0-9._-]{1,64}$'
DOVECOT_DOMAIN_RE='^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$'
# An absolute path without control characters, spaces, quotes, '%' (Dovecot's variables), '$',
# '#', '{', '}', '\\', '*' nor ':' (mail_location's separator).
DOVECOT_PATH_RE='^/[A-Za-z0-9._/+,=@~-]*$'
# Unix socket paths are at most 107 bytes; the longest Dovecot makes below base_dir is
# "token-login/tokenlogin" (22) plus slack for the ones of other versions.
DOVECOT_BASE_DIR_MAX=72
# 1 GiB a mailbox unless DOVECOT_QUOTA_MB says otherwise; at most 16 TiB (Dovecot counts in KiB).
DOVECOT_QUOTA_MB_DEFAULT=1024
DOVECOT_QUOTA_MB_MAX=16777216

# Renders the template into "$1"/dovecot.conf (mode 0600, written atomically), with beside it
# master-users (the master user's SHA512-CRYPT hash, 0600), users (empty: no user has a password
# of their own), domains (the userdb entry of the mail domain), state/ and the log dovecot.log.
# Inputs as variables:
#   DOVECOT_LISTEN_IP, DOVECOT_IMAP_PORT, DOVECOT_LMTP_PORT, DOVECOT_DOMAIN (lower-cased),
#   DOVECOT_MAIL_DIR (the Maildirs of the domain: <dir>/<user>), DOVECOT_MASTER_USER,
#   DOVECOT_MASTER_SECRET_FILE (one line of 64 lower-case hex characters),
#   optional DOVECOT_BASE_DIR (Dovecot's sockets and pid file; default "$1"/run),
#   optional DOVECOT_MAIL_ACCOUNT (root only: the account owning the mail; default Debian's mail),
#   optional DOVECOT_MAIL_DEBUG=1 (mail_debug and auth_debug, never the passwords),
#   optional DOVECOT_QUOTA_MB (the storage quota of each mailbox in MiB, default
#   DOVECOT_QUOTA_MB_DEFAULT; 0: no limit),
#   optional DOVECOT_QUOTA_STATUS_PORT (a port on DOVECOT_LISTEN_IP for Dovecot's quota-status
#   policy service, which a Postfix in front asks before accepting mail; none when empty).
# Run as an ordinary account, every process and file is that account's. Run as root, Dovecot's
# own processes are Debian's dovecot and dovenull accounts, and the mail belongs to
# DOVECOT_MAIL_ACCOUNT: Dovecot never accesses mail as root ("Mail access not allowed for
# root"), so DOVECOT_MAIL_DIR and DOVECOT_BASE_DIR must then be where that account can reach
# them, which excludes secms-server's data directory (0700, root's).
dovecot_render() {
  local dir="$1"
  local base_dir="${DOVECOT_BASE_DIR:-${dir%/}/run}"
  dovecot_check "listening address" "${DOVECOT_LISTEN_IP:-}" "$DOVECOT_IP_RE" || return 1
  dovecot_check "IMAP port" "${DOVECOT_IMAP_PORT:-}" "$DOVECOT_PORT_RE" || return 1
  dovecot_check "LMTP port" "${DOVECOT_LMTP_PORT:-}" "$DOVECOT_PORT_RE" || return 1
  dovecot_check "mail domain" "${DOVECOT_DOMAIN:-}" "$DOVECOT_DOMAIN_RE" || return 1
  dovecot_check "master user" "${DOVECOT_MASTER_USER:-}" "$DOVECOT_USER_RE" || return 1
  dovecot_check directory "$dir" "$DOVECOT_PATH_RE" || return 1
  dovecot_check "base directory" "$base_dir" "$DOVECOT_PATH_RE" || return 1
  dovecot_check "mail directory" "${DOVECOT_MAIL_DIR:-}" "$DOVECOT_PATH_RE" || return 1
  dovecot_check "master secret file" "${DOVECOT_MASTER_SECRET_FILE:-}" '^/[^[:cntrl:]]*$' || return 1
  local quota_mb="${DOVECOT_QUOTA_MB:-$DOVECOT_QUOTA_MB_DEFAULT}"
  dovecot_check "mailbox quota (MiB)" "$quota_mb" '^[0-9]{1,8}$' || return 1
  if [ "$((10#$quota_mb))" -gt "$DOVECOT_QUOTA_MB_MAX" ]; then
    echo "dovecot: mailbox quota $quota_mb MiB is above $DOVECOT_QUOTA_MB_MAX MiB" >&2
    return 1
  fi
  local quota_status_port="${DOVECOT_QUOTA_STATUS_PORT:-}"
  if [ -n "$quota_status_port" ]; then
    dovecot_check "quota-status port" "$quota_status_port" "$DOVECOT_PORT_RE" || return 1
    quota_status_port="$((10#$quota_status_port))"
    if [ "$quota_status_port" -eq "$((10#$DOVECOT_IMAP_PORT))" ] ||
      [ "$quota_status_port" -eq "$((10#$DOVECOT_LMTP_PORT))" ]; then
      echo "dovecot: the quota-status port $quota_status_port is also the IMAP or LMTP port" >&2
      return 1
    fi
  fi
  local port
  for port in "$DOVECOT_IMAP_PORT" "$DOVECOT_LMTP_PORT" $quota_status_port; do
    if [ "$((10#$port))" -lt 1 ] || [ "$((10#$port))" -gt 65535 ]; then
      echo "dovecot: port $port out of range" >&2
      return 1
    fi
  done
  if [ "$((10#$DOVECOT_IMAP_PORT))" -eq "$((10#$DOVECOT_LMTP_PORT))" ]; then
    echo "dovecot: the IMAP and LMTP ports are both $DOVECOT_IMAP_PORT" >&2
    return 1
  fi
  if [ "${#base_dir}" -gt "$DOVECOT_BASE_DIR_MAX" ]; then
    echo "dovecot: $base_dir is longer than $DOVECOT_BASE_DIR_MAX characters (Dovecot's sockets there would exceed the 107 bytes of a socket path); use a shorter directory" >&2
    return 1
  fi
  local domain="${DOVECOT_DOMAIN,,}"
  [ -d "$dir" ] || { echo "dovecot: $dir is not a directory" >&2; return 1; }
  local p
  for p in "$dir" "$base_dir" "$DOVECOT_MAIL_DIR"; do
    [ ! -L "$p" ] || { echo "dovecot: $p is a symbolic link" >&2; return 1; }
  done

  # The secret is read here and given to openssl on its standard input, never on a command line.
  local secret
  [ -f "$DOVECOT_MASTER_SECRET_FILE" ] || {
    echo "dovecot: the master secret file $DOVECOT_MASTER_SECRET_FILE is missing" >&2
    return 1
  }
  secret="$(tr -d '[:space:]' <"$DOVECOT_MASTER_SECRET_FILE")" || return 1
  if ! [[ "$secret" =~ ^[0-9a-f]{64}$ ]]; then
    echo "dovecot: $DOVECOT_MASTER_SECRET_FILE does not hold 64 lower-case hex characters" >&2
    return 1
  fi
  local hash
  hash="$(printf '%s\n' "$secret" | openssl passwd -6 -stdin)" || return 1
  unset secret
  dovecot_check "master secret hash" "$hash" '^\$6\$[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$' || return 1

  local mail_user mail_group mail_uid mail_gid internal_user internal_group login_user auth_user
  local login_chroot anvil_chroot
  if [ "$(id -u)" -eq 0 ]; then
    mail_user="${DOVECOT_MAIL_ACCOUNT:-mail}"
    dovecot_check "mail account" "$mail_user" "$DOVECOT_USER_RE" || return 1
    getent passwd dovecot >/dev/null && getent passwd dovenull >/dev/null &&
      getent group dovecot >/dev/null || {
      echo "dovecot: the dovecot and dovenull accounts are missing (Debian's dovecot-core creates them; scripts/install-deps.sh installs it)" >&2
      return 1
    }
    mail_uid="$(id -u "$mail_user" 2>/dev/null)" && mail_gid="$(id -g "$mail_user")" || {
      echo "dovecot: the mail account $mail_user does not exist" >&2
      return 1
    }
    mail_group="$(id -gn "$mail_user")"
    if [ "$mail_uid" -eq 0 ] || [ "$mail_user" = dovecot ] || [ "$mail_user" = dovenull ]; then
      echo "dovecot: the mail account must be an unprivileged one of its own, not $mail_user" >&2
      return 1
    fi
    internal_user=dovecot internal_group=dovecot login_user=dovenull
    login_chroot=login anvil_chroot=empty
    # The master user's file is in "$1", inside the 0700 data directory only root may enter.
    auth_user=root
  else
    mail_uid="$(id -u)" mail_gid="$(id -g)" mail_user="$(id -un)" mail_group="$(id -gn)"
    internal_user="$mail_user" internal_group="$mail_group" login_user="$mail_user"
    auth_user="$mail_user" login_chroot="" anvil_chroot=""
  fi
  dovecot_check "account name" "$mail_user" "$DOVECOT_USER_RE" || return 1
  dovecot_check "group name" "$mail_group" "$DOVECOT_USER_RE" || return 1

  (umask 077 && mkdir -p "$dir/state" "$DOVECOT_MAIL_DIR" "$base_dir") || return 1
  # base_dir is world-readable as Dovecot wants it (it fixes it with a warning otherwise); the
  # sockets in it have their own modes.
  chmod 700 "$dir" "$dir/state" "$DOVECOT_MAIL_DIR" && chmod 755 "$base_dir" || return 1
  if [ "$(id -u)" -eq 0 ]; then
    # Only the top directory: the Maildirs below are created by Dovecot as the mail account.
    chown "$mail_uid:$mail_gid" "$DOVECOT_MAIL_DIR" || return 1
    for p in "$DOVECOT_MAIL_DIR" "$base_dir"; do
      if ! setpriv --reuid="$mail_uid" --regid="$mail_gid" --clear-groups test -x "$p"; then
        echo "dovecot: the mail account $mail_user cannot reach $p (Dovecot refuses to access mail as root; choose a directory outside any 0700 one)" >&2
        return 1
      fi
    done
  fi

  local extra=()
  if [ "${DOVECOT_MAIL_DEBUG:-0}" = 1 ]; then
    extra+=("mail_debug = yes" "auth_debug = yes")
  fi

  local text
  text="$(<"$DOVECOT_TEMPLATE")" || return 1
  # Each replacement is quoted: bash 5.2's patsub_replacement would otherwise turn an '&' in a
  # value into the matched placeholder.
  text="${text//@LISTEN_IP@/"$DOVECOT_LISTEN_IP"}"
  text="${text//@IMAP_PORT@/"$((10#$DOVECOT_IMAP_PORT))"}"
  text="${text//@LMTP_PORT@/"$((10#$DOVECOT_LMTP_PORT))"}"
  text="${text//@DOMAIN@/"$domain"}"
  text="${text//@MAIL_DIR@/"$DOVECOT_MAIL_DIR"}"
  text="${text//@MASTER_USER@/"$DOVECOT_MASTER_USER"}"
  text="${text//@MASTER_PASSWD_FILE@/"$dir/master-users"}"
  text="${text//@USERS_PASSWD_FILE@/"$dir/users"}"
  text="${text//@DOMAINS_PASSWD_FILE@/"$dir/domains"}"
  text="${text//@BASE_DIR@/"$base_dir"}"
  text="${text//@STATE_DIR@/"$dir/state"}"
  text="${text//@LOG_FILE@/"$dir/dovecot.log"}"
  text="${text//@MAIL_UID@/"$mail_uid"}"
  text="${text//@MAIL_GID@/"$mail_gid"}"
  text="${text//@INTERNAL_USER@/"$internal_user"}"
  text="${text//@INTERNAL_GROUP@/"$internal_group"}"
  text="${text//@LOGIN_USER@/"$login_user"}"
  text="${text//@AUTH_USER@/"$auth_user"}"
  text="${text//@LOGIN_CHROOT@/"$login_chroot"}"
  text="${text//@ANVIL_CHROOT@/"$anvil_chroot"}"
  text="${text//@QUOTA_MB@/"$((10#$quota_mb))"}"
  # One process a connection (client_limit 1, as Dovecot's documentation gives it): each
  # check opens the recipient's mailbox as the mail account.
  local quota_status_service=""
  if [ -n "$quota_status_port" ]; then
    quota_status_service="$(printf '%s\n' "service quota-status {" \
      "  executable = quota-status -p postfix" "  client_limit = 1" \
      "  inet_listener quota-status {" "    address = $DOVECOT_LISTEN_IP" \
      "    port = $quota_status_port" "  }" "}")"
  fi
  text="${text//@QUOTA_STATUS_SERVICE@/"$quota_status_service"}"
  local extra_lines=""
  [ "${#extra[@]}" -eq 0 ] || extra_lines="$(printf '%s\n' "${extra[@]}")"
  text="${text//@EXTRA_LINES@/"$extra_lines"}"
  if [[ "$text" =~ @[A-Z_]+@ ]]; then
    echo "dovecot: a placeholder of $DOVECOT_TEMPLATE was left unrendered" >&2
    return 1
  fi

  local tmp="$dir/.render.$$"
  (umask 077 && printf '%s:{SHA512-CRYPT}%s\n' "$DOVECOT_MASTER_USER" "$hash" >"$tmp") &&
    mv -f "$tmp" "$dir/master-users" || return 1
  (umask 077 && : >"$tmp") && mv -f "$tmp" "$dir/users" || return 1
  (umask 077 && printf '%s::::::\n' "$domain" >"$tmp") &&
    mv -f "$tmp" "$dir/domains" || return 1
  (umask 077 && printf '%s\n' "$text" >"$tmp") && mv -f "$tmp" "$dir/dovecot.conf" || return 1
}

# True when something listens on TCP port "$1".
dovecot_port_busy() {
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Starts `dovecot -F -c "$1"` in the background (in this shell's process group, so it stops with
# it), waits until the IMAP port "$2" answers with a greeting and sets DOVECOT_PID. Fails, showing
# the end of the log "$3", when it exits or does not answer within 10 s. Also refuses when the
# IMAP or LMTP port ("$4", optional) is already taken.
dovecot_start() {
  local conf="$1" port="$2" log="$3" lmtp_port="${4:-}"
  command -v dovecot >/dev/null 2>&1 || {
    echo "dovecot: dovecot is not installed (scripts/install-deps.sh installs Debian's dovecot-imapd and dovecot-lmtpd)" >&2
    return 1
  }
  local p
  for p in "$port" $lmtp_port; do
    if dovecot_port_busy "$p"; then
      echo "dovecot: port $p is already in use (another Dovecot? set SECMS_IMAP_PORT / SECMS_LMTP_PORT)" >&2
      return 1
    fi
  done
  (umask 077 && exec dovecot -F -c "$conf" </dev/null >>"$log" 2>&1) &
  DOVECOT_PID=$!
  local deadline=$((SECONDS + 10))
  while [ "$SECONDS" -le "$deadline" ]; do
    if ! kill -0 "$DOVECOT_PID" 2>/dev/null; then
      echo "dovecot: dovecot exited at start; the end of $log:" >&2
      tail -n 20 "$log" >&2 2>/dev/null || true
      DOVECOT_PID=""
      return 1
    fi
    if dovecot_port_busy "$port" && dovecot_greets "$port"; then
      return 0
    fi
    sleep 0.1
  done
  echo "dovecot: no IMAP greeting on $port after 10 s; the end of $log:" >&2
  tail -n 20 "$log" >&2 2>/dev/null || true
  kill "$DOVECOT_PID" 2>/dev/null || true
  wait "$DOVECOT_PID" 2>/dev/null || true
  DOVECOT_PID=""
  return 1
}

# True when the IMAP server on DOVECOT_LISTEN_IP (default 127.0.0.1) port "$1" sends "* OK".
# bash's /dev/tcp takes an IPv6 literal without brackets.
dovecot_greets() {
  local host="${DOVECOT_LISTEN_IP:-127.0.0.1}" line="" fd
  exec {fd}<>"/dev/tcp/$host/$1" 2>/dev/null || return 1
  IFS= read -r -t 1 -u "$fd" line || true
  exec {fd}>&-
  [[ "$line" == "* OK"* ]]
}

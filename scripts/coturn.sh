# coturn helpers for scripts/*.sh (DESIGN.md §11). Sourced after lib.sh, not run.
# The configuration template is server/calls/turnserver.conf.in; tests/helpers/coturn.mjs renders
# the same template for the tests.

COTURN_TEMPLATE="$ROOT/server/calls/turnserver.conf.in"

# Debian's coturn package starts its own system service, which would take 3478.
stop_system_coturn() { stop_system_service coturn; }

# render_check for this renderer: coturn_check NAME VALUE REGEX (callers add `|| return 1`).
coturn_check() { render_check coturn "$@"; }

COTURN_IPV4_RE='^[0-9]{1,3}(\.[0-9]{1,3}){3}$'
COTURN_IP_RE='^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$'
COTURN_PORT_RE='^[0-9]{1,5}$'
# bps-capacity: 125 000 000 bytes/s (1 Gbit/s). Every allocation reserves the template's max-bps
# (750 000) of it, so this admits about 166 concurrent allocations at full rate; a smaller uplink
# sets less (docs/operations.md "coturn (TURN relay)").
COTURN_BPS_CAPACITY_DEFAULT=125000000
COTURN_MAX_BPS=750000

# Renders the template into "$1" (mode 0600, written atomically). Inputs as variables:
#   COTURN_SECRET (64 lower-case hex), COTURN_LISTEN_IP, COTURN_PORT, COTURN_RELAY_IP,
#   COTURN_RELAY_MIN, COTURN_RELAY_MAX, COTURN_REALM, COTURN_DIR (log, pid file, database),
#   optional COTURN_TLS_PORT + COTURN_TLS_CERT + COTURN_TLS_KEY, COTURN_EXTERNAL_IP,
#   COTURN_ALLOW_PRIVATE_PEERS=1 (a LAN set-up: do not deny the private ranges),
#   COTURN_BPS_CAPACITY (bytes/s, default COTURN_BPS_CAPACITY_DEFAULT; 0: no cap).
# Loopback peers are allowed exactly when the relay address is a loopback one.
coturn_render() {
  local out="$1"
  coturn_check secret "$COTURN_SECRET" '^[0-9a-f]{64}$' || return 1
  coturn_check "listening address" "$COTURN_LISTEN_IP" "$COTURN_IP_RE" || return 1
  coturn_check "relay address" "$COTURN_RELAY_IP" "$COTURN_IP_RE" || return 1
  coturn_check "listening port" "$COTURN_PORT" "$COTURN_PORT_RE" || return 1
  coturn_check "relay port range start" "$COTURN_RELAY_MIN" "$COTURN_PORT_RE" || return 1
  coturn_check "relay port range end" "$COTURN_RELAY_MAX" "$COTURN_PORT_RE" || return 1
  coturn_check realm "$COTURN_REALM" '^[A-Za-z0-9.-]{1,253}$' || return 1
  coturn_check directory "$COTURN_DIR" '^/[^[:cntrl:]]*$' || return 1
  local bps="${COTURN_BPS_CAPACITY:-$COTURN_BPS_CAPACITY_DEFAULT}"
  coturn_check "bandwidth capacity" "$bps" '^[0-9]{1,10}$' || return 1
  # Below max-bps not even one allocation gets its full rate; coturn's counter is 32 bits.
  if [ "$bps" -ne 0 ] && { [ "$bps" -lt "$COTURN_MAX_BPS" ] || [ "$bps" -gt 4294967295 ]; }; then
    echo "coturn: bandwidth capacity $bps bytes/s: 0 (no cap) or $COTURN_MAX_BPS-4294967295" >&2
    return 1
  fi
  if [ "$COTURN_RELAY_MIN" -gt "$COTURN_RELAY_MAX" ] || [ "$COTURN_RELAY_MIN" -lt 1024 ] ||
    [ "$COTURN_RELAY_MAX" -gt 65535 ] || [ "$COTURN_PORT" -lt 1 ] || [ "$COTURN_PORT" -gt 65535 ]; then
    echo "coturn: ports out of range: listening $COTURN_PORT, relay $COTURN_RELAY_MIN-$COTURN_RELAY_MAX" >&2
    return 1
  fi

  local tls deny="" extra=()
  if [ -n "${COTURN_TLS_CERT:-}" ]; then
    coturn_check "TLS port" "${COTURN_TLS_PORT:-5349}" "$COTURN_PORT_RE" || return 1
    coturn_check "TLS certificate path" "$COTURN_TLS_CERT" '^/[^[:cntrl:]]*$' || return 1
    coturn_check "TLS key path" "${COTURN_TLS_KEY:-}" '^/[^[:cntrl:]]*$' || return 1
    # turns: over TLS (RFC 7065); DTLS listeners are not needed by browsers.
    tls="tls-listening-port=${COTURN_TLS_PORT:-5349}"$'\n'"cert=$COTURN_TLS_CERT"$'\n'"pkey=$COTURN_TLS_KEY"$'\n'"no-dtls"
  else
    tls="no-tls"$'\n'"no-dtls"
  fi
  if [[ "$COTURN_RELAY_IP" == 127.* || "$COTURN_RELAY_IP" == "::1" ]]; then
    extra+=("allow-loopback-peers")
  fi
  if [ -n "${COTURN_EXTERNAL_IP:-}" ]; then
    coturn_check "external address" "$COTURN_EXTERNAL_IP" '^[0-9A-Fa-f:./]+$' || return 1
    extra+=("external-ip=$COTURN_EXTERNAL_IP")
  fi
  [ "${COTURN_ALLOW_PRIVATE_PEERS:-0}" = 1 ] && deny="# "

  local text
  text="$(<"$COTURN_TEMPLATE")" || return 1
  # Each replacement is quoted: bash 5.2's patsub_replacement would otherwise turn an '&' in a
  # value (a legal character of a path) into the matched placeholder.
  text="${text//@LISTEN_IP@/"$COTURN_LISTEN_IP"}"
  text="${text//@LISTEN_PORT@/"$COTURN_PORT"}"
  text="${text//@RELAY_IP@/"$COTURN_RELAY_IP"}"
  text="${text//@RELAY_MIN_PORT@/"$COTURN_RELAY_MIN"}"
  text="${text//@RELAY_MAX_PORT@/"$COTURN_RELAY_MAX"}"
  text="${text//@TLS_LINES@/"$tls"}"
  text="${text//@SECRET@/"$COTURN_SECRET"}"
  text="${text//@REALM@/"$COTURN_REALM"}"
  text="${text//@DENY@/"$deny"}"
  text="${text//@BPS_CAPACITY@/"$((10#$bps))"}"
  text="${text//@DB_PATH@/"$COTURN_DIR/turndb"}"
  text="${text//@PID_FILE@/"$COTURN_DIR/turnserver.pid"}"
  text="${text//@LOG_FILE@/"$COTURN_DIR/turnserver.log"}"
  local extra_lines
  extra_lines="$(printf '%s\n' "${extra[@]}")"
  text="${text//@EXTRA_LINES@/"$extra_lines"}"
  if [[ "$text" == *@[A-Z_]*@* ]]; then
    echo "coturn: a placeholder of $COTURN_TEMPLATE was left unrendered" >&2
    return 1
  fi
  local tmp="$out.tmp.$$"
  (umask 077 && printf '%s\n' "$text" >"$tmp") || return 1
  chmod 600 "$tmp" && mv -f "$tmp" "$out"
}

# True when something listens on TCP port "$1".
coturn_port_busy() {
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Starts `turnserver -c "$1"` in the background (in this shell's process group, so it stops with
# it), waits until it listens on TCP port "$2" and sets COTURN_PID. Fails, showing the end of the
# log "$3", when it exits or does not listen within 10 s.
coturn_start() {
  local conf="$1" port="$2" log="$3"
  command -v turnserver >/dev/null 2>&1 || {
    echo "coturn: turnserver is not installed (scripts/install-deps.sh installs Debian's coturn)" >&2
    return 1
  }
  if coturn_port_busy "$port"; then
    echo "coturn: port $port is already in use (another coturn? set SECMS_TURN_PORT)" >&2
    return 1
  fi
  # umask 077: its log, pid file and database are 0600 like every file of the data directory.
  (umask 077 && exec turnserver -c "$conf" </dev/null >/dev/null 2>&1) &
  COTURN_PID=$!
  local i
  for i in $(seq 1 100); do
    if ! kill -0 "$COTURN_PID" 2>/dev/null; then
      echo "coturn: turnserver exited at start; the end of $log:" >&2
      tail -n 20 "$log" >&2 2>/dev/null || true
      return 1
    fi
    coturn_port_busy "$port" && return 0
    sleep 0.1
  done
  echo "coturn: turnserver does not listen on $port after 10 s; the end of $log:" >&2
  tail -n 20 "$log" >&2 2>/dev/null || true
  kill "$COTURN_PID" 2>/dev/null || true
  return 1
}

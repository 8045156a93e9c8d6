# SIP edge helpers for scripts/*.sh: Kamailio (registrar and proxy) and rtpengine (media relay)
# for the SIP phone. Sourced after lib.sh, not run. The templates are server/sip/kamailio.cfg.in
# and server/sip/tls.cfg.in; tests/helpers/sip-edge.mjs renders them through sip_render below,
# so the tests run the configuration run.sh runs. docs/operations.md "SIP edge (Kamailio and
# rtpengine)" explains every value.

# SIP_KAMAILIO_TEMPLATE may name another template (the tests check a rule against an older one).
SIP_KAMAILIO_TEMPLATE="${SIP_KAMAILIO_TEMPLATE:-$ROOT/server/sip/kamailio.cfg.in}"
SIP_TLS_TEMPLATE="$ROOT/server/sip/tls.cfg.in"

# render_check for this renderer: sip_check NAME VALUE REGEX (callers add `|| return 1`).
sip_check() { render_check sip "$@"; }

SIP_IPV4_RE='^[0-9]{1,3}(\.[0-9]{1,3}){3}$'
SIP_PORT_RE='^[0-9]{1,5}$'
SIP_DOMAIN_RE='^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'
SIP_PATH_RE='^/[A-Za-z0-9._/+@=,-]*$'
SIP_HOSTPORT_RE='^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}(;transport=(udp|tcp|tls))?$'

# Debian's module directory (multiarch), or SECMS_KAMAILIO_MODULES.
sip_modules_dir() {
  if [ -n "${SECMS_KAMAILIO_MODULES:-}" ]; then
    printf '%s\n' "$SECMS_KAMAILIO_MODULES"
    return 0
  fi
  local dir
  for dir in /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules /usr/local/lib64/kamailio/modules; do
    [ -f "$dir/auth_ephemeral.so" ] && { printf '%s\n' "$dir"; return 0; }
  done
  echo "sip: Kamailio's modules (with auth_ephemeral) are not installed; scripts/install-deps.sh installs kamailio and its autheph, websocket, tls and sqlite modules" >&2
  return 1
}

# Replaces @NAME@ by the value of the variable named in the associative array given by name.
# Each replacement is quoted: bash 5.2's patsub_replacement would otherwise turn an '&' in a
# value into the matched placeholder.
sip_fill() {
  local -n _values="$1"
  local text="$2" name
  for name in "${!_values[@]}"; do
    text="${text//@$name@/"${_values[$name]}"}"
  done
  if [[ "$text" =~ @[A-Z_]+@ ]]; then
    echo "sip: placeholder ${BASH_REMATCH[0]} of a template was left unrendered" >&2
    return 1
  fi
  printf '%s\n' "$text"
}

# Writes "$2" with mode 0600, atomically, from the text "$1".
sip_write() {
  local tmp="$2.tmp.$$"
  (umask 077 && printf '%s' "$1" >"$tmp") || return 1
  chmod 600 "$tmp" && mv -f "$tmp" "$2"
}

# Renders kamailio.cfg and tls.cfg into the directory "$1" (0700; files 0600) and makes its run/
# directory. Inputs as variables:
#   SIP_SECRET (64 lower-case hex: the text of <data_dir>/sip/secret), SIP_DOMAIN,
#   SIP_LISTEN_IP, SIP_PORT (UDP and TCP), SIP_TLS_PORT, SIP_WSS_PORT, SIP_CERT, SIP_KEY
#   (the app's certificate and key), SIP_USERS_DB (<data_dir>/users.db), SIP_NG_PORT
#   (rtpengine's control port on 127.0.0.1), optional SIP_TRUNK ("host:port[;transport=…]"),
#   SIP_ADVERTISE_IP (public address put in Via/Record-Route when behind NAT),
#   SIP_PIKE_DENSITY (30) requests per SIP_PIKE_UNIT (2) seconds per source address,
#   SIP_CHILDREN (4) worker processes per listener, SIP_TCP_IDLE (60) seconds after which a
#   TCP/TLS/WebSocket connection that carried nothing is closed (a registered client's lives as
#   long as its registration), SIP_MAX_CALLS (4) concurrent calls per account.
sip_render() {
  local dir="$1"
  sip_check secret "${SIP_SECRET:-}" '^[0-9a-f]{64}$' || return 1
  sip_check domain "${SIP_DOMAIN:-}" "$SIP_DOMAIN_RE" || return 1
  sip_check "listening address" "${SIP_LISTEN_IP:-}" "$SIP_IPV4_RE" || return 1
  local p
  for p in SIP_PORT SIP_TLS_PORT SIP_WSS_PORT SIP_NG_PORT; do
    sip_check "$p" "${!p:-}" "$SIP_PORT_RE" || return 1
    if [ "${!p}" -lt 1 ] || [ "${!p}" -gt 65535 ]; then
      echo "sip: $p out of range: ${!p}" >&2
      return 1
    fi
  done
  sip_check "certificate path" "${SIP_CERT:-}" "$SIP_PATH_RE" || return 1
  sip_check "key path" "${SIP_KEY:-}" "$SIP_PATH_RE" || return 1
  sip_check "users database path" "${SIP_USERS_DB:-}" "$SIP_PATH_RE" || return 1
  sip_check directory "$dir" "$SIP_PATH_RE" || return 1
  local density="${SIP_PIKE_DENSITY:-30}" unit="${SIP_PIKE_UNIT:-2}" children="${SIP_CHILDREN:-4}"
  sip_check "flood density" "$density" '^[1-9][0-9]{0,4}$' || return 1
  sip_check "flood sampling unit" "$unit" '^[1-9][0-9]?$' || return 1
  sip_check "children" "$children" '^([1-9]|[1-5][0-9]|6[0-4])$' || return 1
  local tcp_idle="${SIP_TCP_IDLE:-60}" max_calls="${SIP_MAX_CALLS:-4}"
  sip_check "TCP idle lifetime" "$tcp_idle" '^([2-9]|[1-9][0-9]|[1-5][0-9][0-9]|600)$' || return 1
  sip_check "calls per account" "$max_calls" '^([1-9]|[1-9][0-9])$' || return 1
  local trunk_uri="" trunk_ip="" advertise=""
  if [ -n "${SIP_TRUNK:-}" ]; then
    sip_check trunk "$SIP_TRUNK" "$SIP_HOSTPORT_RE" || return 1
    trunk_uri="sip:$SIP_TRUNK"
    # The trunk's address, the only source whose requests are not challenged: resolved now
    # (the proxy itself resolves no names), an address as it is.
    local trunk_host="${SIP_TRUNK%%:*}"
    if [[ "$trunk_host" =~ $SIP_IPV4_RE ]]; then
      trunk_ip="$trunk_host"
    else
      trunk_ip="$(getent ahostsv4 "$trunk_host" 2>/dev/null | awk 'NR == 1 { print $1 }')"
    fi
    sip_check "trunk address" "$trunk_ip" "$SIP_IPV4_RE" || {
      echo "sip: the trunk host $trunk_host does not resolve to an IPv4 address" >&2
      return 1
    }
  fi
  if [ -n "${SIP_ADVERTISE_IP:-}" ]; then
    sip_check "advertised address" "$SIP_ADVERTISE_IP" "$SIP_IPV4_RE" || return 1
    advertise=" advertise $SIP_ADVERTISE_IP"
  fi
  [ -r "$SIP_CERT" ] || { echo "sip: certificate $SIP_CERT is not readable" >&2; return 1; }
  [ -r "$SIP_KEY" ] || { echo "sip: key $SIP_KEY is not readable" >&2; return 1; }
  [ -f "$SIP_USERS_DB" ] || { echo "sip: $SIP_USERS_DB is missing (run secms-server init first)" >&2; return 1; }
  local modules
  modules="$(sip_modules_dir)" || return 1
  sip_check "modules directory" "$modules" "$SIP_PATH_RE" || return 1

  [ ! -L "$dir" ] || { echo "sip: $dir is a symbolic link" >&2; return 1; }
  (umask 077 && mkdir -p "$dir/run") || return 1
  chmod 700 "$dir" "$dir/run" || return 1
  # The digest nonces' own key, new at each start (a nonce does not outlive the process).
  local nonce_secret
  nonce_secret="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" || return 1

  local -A tls_values=([CERT_FILE]="$SIP_CERT" [KEY_FILE]="$SIP_KEY")
  local -A cfg_values=(
    [SECRET]="$SIP_SECRET" [NONCE_SECRET]="$nonce_secret" [DOMAIN]="$SIP_DOMAIN"
    [LISTEN_IP]="$SIP_LISTEN_IP" [SIP_PORT]="$((10#$SIP_PORT))" [TLS_PORT]="$((10#$SIP_TLS_PORT))"
    [WSS_PORT]="$((10#$SIP_WSS_PORT))" [NG_PORT]="$((10#$SIP_NG_PORT))" [ADVERTISE]="$advertise"
    [USERS_DB]="$SIP_USERS_DB" [TLS_CFG]="$dir/tls.cfg"
    [MODULES_DIR]="$modules" [TRUNK_URI]="$trunk_uri" [PIKE_DENSITY]="$((10#$density))"
    [PIKE_UNIT]="$((10#$unit))" [CHILDREN]="$((10#$children))" [TRUNK_IP]="$trunk_ip"
    [TCP_IDLE_S]="$((10#$tcp_idle))" [MAX_CALLS]="$((10#$max_calls))"
  )
  local text
  text="$(sip_fill tls_values "$(<"$SIP_TLS_TEMPLATE")")" || return 1
  sip_write "$text"$'\n' "$dir/tls.cfg" || return 1
  text="$(sip_fill cfg_values "$(<"$SIP_KAMAILIO_TEMPLATE")")" || return 1
  sip_write "$text"$'\n' "$dir/kamailio.cfg" || return 1
}

# The command line of rtpengine in RTPENGINE_ARGS. Inputs: SIP_LISTEN_IP (the media address),
# optional SIP_RTP_EXTERNAL_IP (the public address put in SDP when behind NAT), SIP_RTP_MIN,
# SIP_RTP_MAX, SIP_NG_PORT. Userspace forwarding only (--table=-1: no kernel module needed), in
# the foreground (its parent stops it), logging on stderr (sip_start_rtpengine sends it to a
# file), no system configuration file read. Log level 6 (info) gives each call's final packet
# counts, but also whole ng messages (SDP, and any SDES key in them) on protocol errors: the log
# is written 0600 (sip_start_rtpengine's umask), like every file of the data directory.
sip_rtpengine_args() {
  sip_check "listening address" "${SIP_LISTEN_IP:-}" "$SIP_IPV4_RE" || return 1
  sip_check "RTP port range start" "${SIP_RTP_MIN:-}" "$SIP_PORT_RE" || return 1
  sip_check "RTP port range end" "${SIP_RTP_MAX:-}" "$SIP_PORT_RE" || return 1
  sip_check "rtpengine control port" "${SIP_NG_PORT:-}" "$SIP_PORT_RE" || return 1
  if [ "$SIP_RTP_MIN" -gt "$SIP_RTP_MAX" ] || [ "$SIP_RTP_MIN" -lt 1024 ] || [ "$SIP_RTP_MAX" -gt 65535 ]; then
    echo "sip: RTP port range out of range: $SIP_RTP_MIN-$SIP_RTP_MAX" >&2
    return 1
  fi
  local interface="$SIP_LISTEN_IP"
  if [ -n "${SIP_RTP_EXTERNAL_IP:-}" ]; then
    sip_check "RTP external address" "$SIP_RTP_EXTERNAL_IP" "$SIP_IPV4_RE" || return 1
    interface+="!$SIP_RTP_EXTERNAL_IP"
  fi
  RTPENGINE_ARGS=(--config-file=none --table=-1 --foreground --log-stderr --log-level=6
    --no-log-timestamps --interface="$interface" --listen-ng="127.0.0.1:$SIP_NG_PORT"
    --port-min="$SIP_RTP_MIN" --port-max="$SIP_RTP_MAX" --delete-delay=0 --num-threads=2
    --max-sessions=500)
}

# True when something listens on TCP port "$1" / binds UDP port "$1".
sip_tcp_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
sip_udp_bound() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }

# Waits until "$2" (a probe command) succeeds while the process "$1" lives (10 s); fails with
# the end of the log "$3" naming the program "$4".
sip_wait() {
  local pid="$1" probe="$2" log="$3" name="$4" i
  for i in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "sip: $name exited at start; the end of $log:" >&2
      tail -n 20 "$log" >&2 2>/dev/null || true
      return 1
    fi
    eval "$probe" && return 0
    sleep 0.1
  done
  echo "sip: $name is not ready after 10 s; the end of $log:" >&2
  tail -n 20 "$log" >&2 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  return 1
}

# Starts rtpengine (sip_rtpengine_args) in the background, logging to "$1", waits until its
# control port is bound and sets RTPENGINE_PID.
sip_start_rtpengine() {
  local log="$1"
  command -v rtpengine >/dev/null 2>&1 || {
    echo "sip: rtpengine is not installed (scripts/install-deps.sh installs Debian's rtpengine-daemon)" >&2
    return 1
  }
  sip_rtpengine_args || return 1
  if sip_udp_bound "$SIP_NG_PORT"; then
    echo "sip: UDP port $SIP_NG_PORT is already in use (another rtpengine? set SECMS_RTPENGINE_NG_PORT)" >&2
    return 1
  fi
  (umask 077 && exec rtpengine "${RTPENGINE_ARGS[@]}" </dev/null >>"$log" 2>&1) &
  RTPENGINE_PID=$!
  sip_wait "$RTPENGINE_PID" "sip_udp_bound $SIP_NG_PORT" "$log" rtpengine
}

# Starts Kamailio with the configuration rendered in "$1" (foreground mode, so it stays this
# shell's child), logging to "$1/kamailio.log", waits until its TCP SIP and WSS ports listen and
# sets KAMAILIO_PID. The configuration is checked first (kamailio -c) so that a mistake shows as
# a message, not as a silent exit.
sip_start_kamailio() {
  local dir="$1" log="$1/kamailio.log"
  command -v kamailio >/dev/null 2>&1 || {
    echo "sip: kamailio is not installed (scripts/install-deps.sh installs Debian's kamailio and its modules)" >&2
    return 1
  }
  local p
  for p in "$SIP_PORT" "$SIP_TLS_PORT" "$SIP_WSS_PORT"; do
    if sip_tcp_listening "$p"; then
      echo "sip: port $p is already in use (another Kamailio? set SECMS_SIP_PORT, SECMS_SIP_TLS_PORT, SECMS_SIP_WSS_PORT)" >&2
      return 1
    fi
  done
  # umask 077: the log is 0600 like every file of the data directory.
  if ! (umask 077 && exec kamailio -c -Y "$dir/run" -f "$dir/kamailio.cfg" >"$log" 2>&1); then
    echo "sip: Kamailio refuses $dir/kamailio.cfg; the end of $log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  # -DD: no daemon, but its worker processes; -E: log on stderr (into the log file);
  # -m/-M: shared and private memory in MiB; -Y: its runtime files in a private directory, never
  # the /run/kamailio of a system service.
  # -x/-X tlsf: Kamailio's TLSF allocator for shared and private memory instead of the default
  # (qm): it starts in a sixth of the CPU time and serves an authenticated REGISTER for about half
  # the CPU (bench/README.md "SIP edge").
  (umask 077 && exec kamailio -x tlsf -X tlsf -DD -E -m 64 -M 8 -Y "$dir/run" -f "$dir/kamailio.cfg" </dev/null >>"$log" 2>&1) &
  KAMAILIO_PID=$!
  sip_wait "$KAMAILIO_PID" "sip_tcp_listening $SIP_PORT && sip_tcp_listening $SIP_TLS_PORT && sip_tcp_listening $SIP_WSS_PORT" "$log" kamailio
}

#!/usr/bin/env bash
# Installs what is missing, builds, initialises the data directory on first run (SQLite database,
# SoftHSM2 token, self-signed TLS certificate for localhost, TURN REST secret), starts coturn with
# a configuration rendered into the data directory, and serves https://localhost:8443. Ctrl-C
# (or SIGTERM to this script) stops both.
# Extra arguments go to secms-server (see `build/release/server/app/secms-server --help`).
# coturn (docs/operations.md "coturn (TURN relay)"), from the environment:
#   SECMS_TURN_LISTEN (127.0.0.1)        address coturn listens on and relays from
#   SECMS_TURN_PORT (3478)               STUN/TURN port, UDP and TCP
#   SECMS_TURN_RELAY_PORTS (49160-49559) UDP port range of relay allocations
#   SECMS_TURN_RELAY_IP (= listen)       relay address when it differs from the listening one
#   SECMS_TURN_EXTERNAL_IP               public address when coturn is behind NAT (external-ip)
#   SECMS_TURN_HOST (= listen)           host name or address put in the turn: URLs
#   SECMS_TURN_REALM (localhost)         TURN realm
#   SECMS_TURN_TLS_CERT, SECMS_TURN_TLS_KEY, SECMS_TURN_TLS_PORT (5349)  turns: over TLS
#   SECMS_TURN_ALLOW_PRIVATE_PEERS=1     a LAN set-up: do not deny relaying to private ranges
#   SECMS_TURN_BPS_CAPACITY (125000000)  bytes/s coturn commits in all (bps-capacity; 0: no cap)
#   SECMS_TURN=0                         no coturn (and no --turn-urls) at all
# Dovecot, the mailboxes (docs/operations.md "Dovecot (mailboxes)"), from the environment:
#   SECMS_MAIL_DOMAIN (localhost)        mail domain: user alice is alice@<domain>
#   SECMS_IMAP_PORT (1143)               Dovecot's IMAP port on 127.0.0.1 (plain: loopback only)
#   SECMS_LMTP_PORT (2424)               Dovecot's LMTP port on 127.0.0.1
#   SECMS_MAIL_QUOTA_MB (1024)           storage quota of each mailbox in MiB (0: no limit)
#   SECMS_QUOTA_STATUS_PORT (none)       port on 127.0.0.1 of Dovecot's quota-status service, for
#                                        a Postfix in front (server/mail/postfix/main.cf.in)
#   SECMS_MAIL_STORE (/var/lib/secms-mail) run as root only: where the Maildirs and Dovecot's
#                                        sockets go (Dovecot never accesses mail as root, and no
#                                        other account may enter the 0700 data directory)
#   SECMS_MAIL=0                         no Dovecot: an existing IMAP/LMTP server (the [mail] keys), or no mail (then set mail_enabled = false, or registrations are refused while no IMAP server answers)
# The SIP edge, Kamailio and rtpengine (docs/operations.md "SIP edge (Kamailio and rtpengine)"):
#   SECMS_SIP_LISTEN (127.0.0.1)         address Kamailio listens on and rtpengine relays media on
#   SECMS_SIP_PORT (5060)                SIP over UDP and TCP (phones)
#   SECMS_SIP_TLS_PORT (5061)            SIP over TLS (phones), the app's certificate and key
#   SECMS_SIP_WSS_PORT (7443)            SIP over secure WebSocket (the browsers' VoIP tab)
#   SECMS_SIP_DOMAIN (localhost)         SIP domain: user alice is sip:alice@<domain>
#   SECMS_SIP_PUBLIC_HOST (localhost)    host name put in the URLs given to browsers and phones
#   SECMS_SIP_EXTERNAL_IP (none)         public IPv4 address when behind NAT (Kamailio's advertise,
#                                        rtpengine's SDP address)
#   SECMS_RTP_PORTS (30000-31999)        UDP port range of rtpengine's media relays
#   SECMS_RTPENGINE_NG_PORT (22223)      rtpengine's control port on 127.0.0.1
#   SECMS_SIP_TRUNK (none)               outbound trunk "host:port": without it only local users
#                                        are reachable
#   SECMS_SIP=0                          no Kamailio and no rtpengine (secms-server's [sip] keys then
#                                        point at the operator's own, or set sip_enabled = false)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/coturn.sh"
source "$(dirname "$0")/dovecot.sh"
source "$(dirname "$0")/sip.sh"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" release
cd "$ROOT"

BIN="$ROOT/build/release/server/app/secms-server"
# Absolute (coturn's configuration names files in it); secms-server creates it with its modes.
DATA_DIR="$(realpath -m "${SECMS_DATA_DIR:-$ROOT/data}")"

# First-run set-up (database, token, TLS certificate, TURN secret) without serving, so that the
# secret exists before coturn's configuration is rendered from it. Idempotent.
"$BIN" --data-dir "$DATA_DIR" "$@" init

server_args=(--data-dir "$DATA_DIR" --web-root "$ROOT/web/dist" --https-port 8443 --http-port 8080)
COTURN_PID=""
if [ "${SECMS_TURN:-1}" != 0 ]; then
  secret_file="$DATA_DIR/turn/secret"
  if [ ! -s "$secret_file" ]; then
    # turn_secret_file points elsewhere: coturn is then the operator's own (SECMS_TURN=0).
    echo "run.sh: $secret_file is missing (turn_secret_file set elsewhere?); run with SECMS_TURN=0 and an existing coturn" >&2
    exit 1
  fi
  COTURN_SECRET="$(tr -d '[:space:]' <"$secret_file")"
  COTURN_LISTEN_IP="${SECMS_TURN_LISTEN:-127.0.0.1}"
  COTURN_PORT="${SECMS_TURN_PORT:-3478}"
  COTURN_RELAY_IP="${SECMS_TURN_RELAY_IP:-$COTURN_LISTEN_IP}"
  # 400 ports: with user-quota 6 per user id, some 66 accounts are needed to hold them all.
  relay_ports="${SECMS_TURN_RELAY_PORTS:-49160-49559}"
  [[ "$relay_ports" =~ ^([0-9]+)-([0-9]+)$ ]] || {
    echo "run.sh: SECMS_TURN_RELAY_PORTS must be MIN-MAX, not '$relay_ports'" >&2
    exit 1
  }
  COTURN_RELAY_MIN="${BASH_REMATCH[1]}"
  COTURN_RELAY_MAX="${BASH_REMATCH[2]}"
  COTURN_REALM="${SECMS_TURN_REALM:-localhost}"
  COTURN_DIR="$DATA_DIR/turn"
  COTURN_TLS_CERT="${SECMS_TURN_TLS_CERT:-}"
  COTURN_TLS_KEY="${SECMS_TURN_TLS_KEY:-}"
  COTURN_TLS_PORT="${SECMS_TURN_TLS_PORT:-5349}"
  COTURN_EXTERNAL_IP="${SECMS_TURN_EXTERNAL_IP:-}"
  COTURN_ALLOW_PRIVATE_PEERS="${SECMS_TURN_ALLOW_PRIVATE_PEERS:-0}"
  COTURN_BPS_CAPACITY="${SECMS_TURN_BPS_CAPACITY:-$COTURN_BPS_CAPACITY_DEFAULT}"
  # init refuses a symlinked turn/ already; never chmod through one.
  [ ! -L "$COTURN_DIR" ] || { echo "run.sh: $COTURN_DIR is a symbolic link" >&2; exit 1; }
  chmod 700 "$COTURN_DIR"
  coturn_render "$COTURN_DIR/turnserver.conf"
  if [[ "$COTURN_RELAY_IP" != 127.* && "$COTURN_RELAY_IP" != "::1" ]]; then
    # coturn denies loopback and the private ranges as peers, but not the host's own address,
    # and it cannot deny by port: only a host firewall keeps TURN users off local UDP services.
    say "coturn relays from $COTURN_RELAY_IP: TURN users can send UDP to this host's own address; add the host firewall rule of docs/operations.md \"coturn (TURN relay)\" (no UDP service here may trust its own address)"
  fi

  turn_host="${SECMS_TURN_HOST:-$COTURN_LISTEN_IP}"
  [[ "$turn_host" == *:* ]] && turn_host="[$turn_host]"  # an IPv6 literal (RFC 7065 §3.1)
  turn_urls="turn:$turn_host:$COTURN_PORT?transport=udp,turn:$turn_host:$COTURN_PORT?transport=tcp"
  [ -n "$COTURN_TLS_CERT" ] && turn_urls+=",turns:$turn_host:$COTURN_TLS_PORT?transport=tcp"
  server_args+=(--turn-urls "$turn_urls")
fi

DOVECOT_PID=""
if [ "${SECMS_MAIL:-1}" != 0 ]; then
  DOVECOT_MASTER_SECRET_FILE="$DATA_DIR/mail/master-secret"
  if [ ! -s "$DOVECOT_MASTER_SECRET_FILE" ]; then
    # Made by `secms-server init` unless mail_master_secret_file points elsewhere: Dovecot is then
    # the operator's own (SECMS_MAIL=0).
    echo "run.sh: $DOVECOT_MASTER_SECRET_FILE is missing (a secms-server whose init makes it is needed, or mail_master_secret_file is set elsewhere: run with SECMS_MAIL=0 and an existing Dovecot)" >&2
    exit 1
  fi
  DOVECOT_LISTEN_IP=127.0.0.1
  DOVECOT_IMAP_PORT="${SECMS_IMAP_PORT:-1143}"
  DOVECOT_LMTP_PORT="${SECMS_LMTP_PORT:-2424}"
  DOVECOT_DOMAIN="${SECMS_MAIL_DOMAIN:-localhost}"
  DOVECOT_DOMAIN="${DOVECOT_DOMAIN,,}"
  DOVECOT_MASTER_USER=secms
  DOVECOT_QUOTA_MB="${SECMS_MAIL_QUOTA_MB:-$DOVECOT_QUOTA_MB_DEFAULT}"
  DOVECOT_QUOTA_STATUS_PORT="${SECMS_QUOTA_STATUS_PORT:-}"
  DOVECOT_DIR="$DATA_DIR/mail/dovecot"
  if [ "$(id -u)" -eq 0 ]; then
    mail_store="${SECMS_MAIL_STORE:-/var/lib/secms-mail}"
    [[ "$mail_store" == /* ]] || { echo "run.sh: SECMS_MAIL_STORE must be an absolute path" >&2; exit 1; }
    [ ! -L "$mail_store" ] || { echo "run.sh: $mail_store is a symbolic link" >&2; exit 1; }
    # 0711: the mail account passes through to its own 0700 directory, and lists nothing.
    mkdir -p "$mail_store" && chmod 711 "$mail_store"
    DOVECOT_MAIL_DIR="$mail_store/$DOVECOT_DOMAIN"
    DOVECOT_BASE_DIR="$mail_store/run"
  else
    [ "$DOVECOT_DOMAIN" != dovecot ] || { echo "run.sh: the mail domain cannot be 'dovecot' (the name of Dovecot's directory beside the Maildirs)" >&2; exit 1; }
    DOVECOT_MAIL_DIR="$DATA_DIR/mail/$DOVECOT_DOMAIN"
    DOVECOT_BASE_DIR="$DOVECOT_DIR/run"
  fi
  [ ! -L "$DATA_DIR/mail" ] || { echo "run.sh: $DATA_DIR/mail is a symbolic link" >&2; exit 1; }
  (umask 077 && mkdir -p "$DOVECOT_DIR")
  dovecot_render "$DOVECOT_DIR"
  # The flags exist in a secms-server with the Email tab; an older one is left as it was.
  if "$BIN" --help 2>/dev/null | grep -q -- '--mail-domain'; then
    server_args+=(--mail-domain "$DOVECOT_DOMAIN" --mail-imap-port "$DOVECOT_IMAP_PORT"
      --mail-lmtp-port "$DOVECOT_LMTP_PORT")
  fi
fi

KAMAILIO_PID=""
RTPENGINE_PID=""
if [ "${SECMS_SIP:-1}" != 0 ]; then
  sip_secret_file="$DATA_DIR/sip/secret"
  if [ ! -s "$sip_secret_file" ]; then
    # Made by `secms-server init` unless sip_secret_file points elsewhere: the SIP edge is then
    # the operator's own (SECMS_SIP=0).
    echo "run.sh: $sip_secret_file is missing (a secms-server whose init makes it is needed, or sip_secret_file is set elsewhere: run with SECMS_SIP=0 and an existing Kamailio)" >&2
    exit 1
  fi
  SIP_SECRET="$(tr -d '[:space:]' <"$sip_secret_file")"
  SIP_LISTEN_IP="${SECMS_SIP_LISTEN:-127.0.0.1}"
  SIP_PORT="${SECMS_SIP_PORT:-5060}"
  SIP_TLS_PORT="${SECMS_SIP_TLS_PORT:-5061}"
  SIP_WSS_PORT="${SECMS_SIP_WSS_PORT:-7443}"
  SIP_DOMAIN="${SECMS_SIP_DOMAIN:-localhost}"
  SIP_DOMAIN="${SIP_DOMAIN,,}"
  SIP_NG_PORT="${SECMS_RTPENGINE_NG_PORT:-22223}"
  SIP_TRUNK="${SECMS_SIP_TRUNK:-}"
  SIP_ADVERTISE_IP="${SECMS_SIP_EXTERNAL_IP:-}"
  SIP_RTP_EXTERNAL_IP="${SECMS_SIP_EXTERNAL_IP:-}"
  SIP_CERT="$DATA_DIR/tls/cert.pem"
  SIP_KEY="$DATA_DIR/tls/key.pem"
  SIP_USERS_DB="$DATA_DIR/users.db"
  rtp_ports="${SECMS_RTP_PORTS:-30000-31999}"
  [[ "$rtp_ports" =~ ^([0-9]+)-([0-9]+)$ ]] || {
    echo "run.sh: SECMS_RTP_PORTS must be MIN-MAX, not '$rtp_ports'" >&2
    exit 1
  }
  SIP_RTP_MIN="${BASH_REMATCH[1]}"
  SIP_RTP_MAX="${BASH_REMATCH[2]}"
  sip_public_host="${SECMS_SIP_PUBLIC_HOST:-localhost}"
  sip_check "public host" "$sip_public_host" '^[A-Za-z0-9.-]{1,253}$' || exit 1
  SIP_DIR="$DATA_DIR/sip"
  # init refuses a symlinked sip/ already; never chmod through one.
  [ ! -L "$SIP_DIR" ] || { echo "run.sh: $SIP_DIR is a symbolic link" >&2; exit 1; }
  sip_render "$SIP_DIR"
  # The flags exist in a secms-server with the VoIP tab; an older one is left as it was.
  if "$BIN" --help 2>/dev/null | grep -q -- '--sip-domain'; then
    server_args+=(--sip-domain "$SIP_DOMAIN" --sip-websocket-url "wss://$sip_public_host:$SIP_WSS_PORT"
      --sip-phone-proxy "$sip_public_host:$SIP_PORT" --sip-phone-tls-proxy "$sip_public_host:$SIP_TLS_PORT")
  fi
elif "$BIN" --help 2>/dev/null | grep -q -- '--no-sip' && [[ " $* " != *" --sip-"* && " $* " != *" --config"* ]]; then
  # No SIP edge and no [sip] settings of the operator's own given: the VoIP tab is off.
  server_args+=(--no-sip)
fi

# The processes stay in this script's process group. The server runs as a child this shell
# waits for (not exec, not a plain foreground command: bash runs a trap only after a foreground
# command ends, so a SIGTERM to this script would leave the server running); the trap stops the
# server first, then coturn, and waits for both.
SERVER_PID=""
stop_all() {
  trap - INT TERM HUP
  local pid
  for pid in "$SERVER_PID" "$RTPENGINE_PID" "$KAMAILIO_PID" "$COTURN_PID" "$DOVECOT_PID"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true  # its status is not ours (set -e)
  done
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM HUP
trap 'stop_all' EXIT

if [ "${SECMS_TURN:-1}" != 0 ]; then
  coturn_start "$COTURN_DIR/turnserver.conf" "$COTURN_PORT" "$COTURN_DIR/turnserver.log"
  say "coturn relays on $COTURN_LISTEN_IP:$COTURN_PORT (relay ports $COTURN_RELAY_MIN-$COTURN_RELAY_MAX, log $COTURN_DIR/turnserver.log)"
fi
if [ "${SECMS_MAIL:-1}" != 0 ]; then
  dovecot_start "$DOVECOT_DIR/dovecot.conf" "$DOVECOT_IMAP_PORT" "$DOVECOT_DIR/dovecot.log" "$DOVECOT_LMTP_PORT"
  say "Dovecot serves $DOVECOT_DOMAIN: IMAP on $DOVECOT_LISTEN_IP:$DOVECOT_IMAP_PORT, LMTP on $DOVECOT_LISTEN_IP:$DOVECOT_LMTP_PORT (Maildirs $DOVECOT_MAIL_DIR, log $DOVECOT_DIR/dovecot.log)"
fi
if [ "${SECMS_SIP:-1}" != 0 ]; then
  sip_start_rtpengine "$SIP_DIR/rtpengine.log"
  sip_start_kamailio "$SIP_DIR"
  say "Kamailio serves sip:*@$SIP_DOMAIN on $SIP_LISTEN_IP: UDP/TCP $SIP_PORT, TLS $SIP_TLS_PORT, WSS $SIP_WSS_PORT; rtpengine relays media on ports $SIP_RTP_MIN-$SIP_RTP_MAX (logs $SIP_DIR/kamailio.log, $SIP_DIR/rtpengine.log)"
fi
say "serving https://localhost:8443 (plain http://localhost:8080 redirects there); Ctrl-C stops"
"$BIN" "${server_args[@]}" "$@" &
SERVER_PID=$!
set +e
wait "$SERVER_PID"
status=$?
set -e
SERVER_PID=""
exit "$status"

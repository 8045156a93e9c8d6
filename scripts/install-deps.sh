#!/usr/bin/env bash
# Installs every Debian package and npm module the project needs, and nothing when all are there.
# With --tests (scripts/test.sh) also the packages only the tests need: Postfix, which scripts/run.sh
# never installs (it would replace the host's own mail server).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/coturn.sh"
source "$(dirname "$0")/dovecot.sh"

for_tests=0
case "${1:-}" in
  --tests) for_tests=1 ;;
  "") ;;
  *) echo "usage: install-deps.sh [--tests]" >&2; exit 2 ;;
esac

# Build and runtime (DESIGN.md §3), test tools, and the browser for end-to-end tests.
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libsqlite3-dev sqlite3 librnp-dev rnp gnupg
  libp11-kit-dev softhsm2 libtomlplusplus-dev libcli11-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium openssl curl
  clang-format
  # Fuzzing (scripts/fuzz.sh, tests/fuzz): clang 14 with libFuzzer and the sanitizer runtimes.
  clang libclang-rt-14-dev
  # TLS graded by its own tool (tests/integration/testssl.test.mjs).
  testssl.sh
  # Calls (DESIGN.md §11): the TURN relay, and ip/unshare for the loopback-only test namespace.
  coturn iproute2 util-linux
  # Email: the IMAP/SMTP/LMTP client library and SASL's PLAIN/LOGIN for SMTP AUTH.
  libetpan-dev libsasl2-modules
  # Email: Dovecot as the mailbox store (IMAP, and LMTP for deliveries; docs/operations.md).
  dovecot-core dovecot-imapd dovecot-lmtpd
  # SIP phone (DESIGN.md §11): Kamailio as proxy/registrar (WebSocket and TLS for browsers and
  # phones, auth_ephemeral credentials, SQLite to check accounts and devices) and rtpengine as the
  # media bridge between WebRTC and plain RTP.
  kamailio kamailio-autheph-modules kamailio-websocket-modules kamailio-tls-modules
  kamailio-sqlite-modules rtpengine-daemon
)

# The installed packages other than postfix that provide mail-transport-agent (exim4-daemon-*,
# nullmailer, msmtp-mta, dma, sendmail-bin, opensmtpd, …): Debian's postfix conflicts with them
# and apt would remove them to install it.
other_mail_servers() {
  dpkg-query -W -f='${Package}\t${Status}\t${Provides}\n' 2>/dev/null |
    awk -F'\t' '$1 != "postfix" && $2 ~ /install ok installed/ && $3 ~ /(^|, )mail-transport-agent( |,|$)/ {print $1}'
}
if [ "$for_tests" -eq 1 ]; then
  # Email: Postfix for the internet-facing layout's test (tests/integration/mail-postfix.test.mjs
  # runs a private instance; docs/operations.md). Never in place of another mail server.
  if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "install ok installed"; then
    others="$(other_mail_servers | tr '\n' ' ')"
    if [ -n "$others" ]; then
      echo "install-deps.sh: the tests need Debian's postfix, which would replace the mail server installed here (${others% }); not installing it. Run the tests on a machine without another mail server (tests/integration/mail-postfix.test.mjs then fails saying Postfix is missing)." >&2
      exit 1
    fi
  fi
  PACKAGES+=(postfix)
  # SIP tests: sipp (registrations, calls, floods, malformed SIP) and baresip (a real softphone).
  PACKAGES+=(sip-tester baresip-core)
fi

# Node.js may come from elsewhere than Debian (the machine image ships Node 20 with npm 11);
# Debian's nodejs/npm are installed only when there is no node at all.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # Debian's postfix asks which configuration to make: none (its system instance then has no
  # main.cf and does not start; the test runs its own instance).
  if [[ " ${missing[*]} " == *" postfix "* ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  fi
  # --no-remove: apt stops rather than remove an installed package to make room for these.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}"
  # Debian's coturn package may enable and start its own system service on 3478, which would
  # collide with the instance scripts/run.sh starts beside secms-server: stop and disable the one
  # this run installed, and only that one.
  if [[ " ${missing[*]} " == *" coturn "* ]]; then
    stop_system_coturn
  fi
  # Likewise Debian's dovecot-core starts its system service (IMAP on 143): run.sh starts its own.
  if [[ " ${missing[*]} " == *" dovecot-core "* ]]; then
    stop_system_dovecot
  fi
  # Kamailio's (SIP on 5060) and rtpengine's: run.sh starts its own of both.
  if [[ " ${missing[*]} " == *" kamailio "* ]]; then
    stop_system_service kamailio
  fi
  if [[ " ${missing[*]} " == *" rtpengine-daemon "* ]]; then
    stop_system_service rtpengine-daemon
  fi
  # And Postfix's (SMTP on 25), should the package have started or enabled it.
  if [[ " ${missing[*]} " == *" postfix "* ]]; then
    stop_system_service postfix
  fi
fi

cd "$ROOT"
# npm ci is exact and repeatable; skip it when node_modules already matches the lock file.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.secms-lock 2>/dev/null; then
  say "installing npm packages"
  # No install scripts: the MDN HTTP Observatory's dependencies download a CA bundle and build a
  # PostgreSQL client (its API server's, not its scanner's) from theirs, and the build machines
  # reach no host but the package registries. esbuild runs from its platform package without its own.
  npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
  cp package-lock.json node_modules/.secms-lock
fi
# The Observatory's install script would download Chromium's HSTS preload list, which its scanner
# reads for every scan. The tests scan localhost, which is in no preload list: an empty list
# answers the same.
observatory_preload=node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json
[ -f "$observatory_preload" ] || echo '{}' >"$observatory_preload"

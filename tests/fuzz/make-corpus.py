#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*) from the
project's real test inputs: the PGP fixtures, the room-frame vectors, and the messages, requests
and configuration documents the unit tests use. Inputs the fuzzer found (crashes kept as
regressions, and inputs that reached new coverage) live beside them under other names and are not
touched. Run from anywhere; deterministic."""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
PGP = ROOT / "tests" / "fixtures" / "pgp"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


# --- toml: the documented settings and the unit tests' documents -----------------------------
toml_docs = {
    "typed": '[server]\nhttps_port = 9443\nlisten = "0.0.0.0"\nmetrics_public = true\n'
             '[rate_limits]\nlogin_per_ip_burst = 3\nlogin_per_ip_per_minute = 1.5\n'
             '[password]\nargon2_memory_kib = 65536\n',
    "ports": "[server]\nhttps_port = 9443\nhttp_port = 81\n",
    "unknown-key": "[server]\nhttps_prot = 1\n",
    "wrong-type": '[server]\nhttps_port = "x"\n',
    "out-of-range": "[server]\nhttps_port = 70000\n",
    "bad-table": "[server\n",
    "top-level-key": "port = 1\n",
    "empty": "",
}
for name, text in toml_docs.items():
    write("toml", name, text)
# One document per option of the loader's table (server/app/cli.cpp), each with a number.
import re
options = sorted(set(re.findall(r'\{"([a-z_]+)", "([a-z_]+)"', (ROOT / "server" / "app" / "cli.cpp").read_text())))
for section, key in options:
    write("toml", f"option-{key}", f"[{section}]\n{key} = 1\n")
for example in sorted((ROOT / "docs").glob("*.toml")) + sorted((ROOT / "server").rglob("*.toml")):
    write("toml", example.stem, example.read_bytes())

# --- pgp: byte 0 even = certificate, odd = detached signature over the challenge --------------
for f in sorted(PGP.iterdir()):
    if f.suffix in (".asc", ".gpg") and f.stat().st_size <= 8 * 1024:
        if ".sig" in f.name:
            write("pgp", f.name, b"\x01" + f.read_bytes())
        else:
            write("pgp", f.name, b"\x00" + f.read_bytes())
    elif f.name.startswith("challenge.") and f.name.endswith(".sig"):
        write("pgp", f.name, b"\x01" + f.read_bytes())

# --- frames: the room-frame vectors and relay frames of every type ---------------------------
PLACEHOLDER = b"=" * 32


def relay(frame_type, sid, seq, body):
    return bytes([frame_type]) + sid + struct.pack(">Q", seq) + body


def framed(frames):
    out = b""
    for control, frame in frames:
        out += bytes([control, len(frame)]) + frame
    return out


# The room-frame vectors hold real frame bodies (sender-key ciphertext and signature).
vectors = json.loads((ROOT / "tests" / "vectors" / "room" / "room-frame.json").read_text())
for i, v in enumerate(vectors["vectors"]):
    body = bytes.fromhex(v["expected"]["bodyWithoutSignature"] + v["expected"].get("signature", ""))
    write("frames", f"room-vector-{i}", relay(3, v["inputs"]["room"].encode(), i, body))
sid = b"0123456789abcdef0123456789abcdef"
write("frames", "relay-handshake", relay(1, sid, 0, b"hello"))
write("frames", "relay-record", relay(2, sid, 7, b"ciphertext"))
write("frames", "room-message", relay(3, sid, 0, b"c"))
write("frames", "room-control", relay(4, sid, 1, b"del"))
write("frames", "too-short", relay(2, sid, 0, b"")[:-3])
write("frames", "upper-case-id", relay(2, sid.upper(), 0, b"x"))
write("frames", "channel-in-order", framed([
    (0, relay(1, PLACEHOLDER, 0, b"hs")), (1, relay(1, PLACEHOLDER, 0, b"hs")),
    (0, relay(2, PLACEHOLDER, 1, b"r")), (1, relay(2, PLACEHOLDER, 1, b"r")),
    (0, relay(2, PLACEHOLDER, 3, b"gap")), (2 | (63 << 2), relay(2, PLACEHOLDER, 2, b"later")),
]))
write("frames", "room-in-order", framed([
    (0, relay(3, PLACEHOLDER, 0, b"m")), (1, relay(3, PLACEHOLDER, 0, b"m")),
    (0, relay(4, PLACEHOLDER, 1, b"del")), (0, relay(3, PLACEHOLDER, 1, b"dup")),
    (2 | (40 << 2), relay(3, PLACEHOLDER, 2, b"later")),
]))

# --- control: every control-message type through the hub -------------------------------------
S = "=" * 32
control_inputs = {
    "ping": 'a{"type":"ping"}\n',
    "malformed": 'a{not json\nb[1,2]\na{"type":1}\nb{"type":"no_such_type"}\n',
    "deep": "a" + "[" * 20 + "]" * 20 + "\n",
    "certificate-submit": 'a{"type":"certificate_submit","certificate":'
                          + json.dumps((PGP / "alice-ed25519.asc").read_text()) + "}\n"
                          'a{"type":"certificate_proof","signature":'
                          + json.dumps((PGP / "challenge.alice.sig.asc").read_text()) + "}\n",
    "certificate-bad": 'a{"type":"certificate_submit","certificate":"x"}\n'
                       'a{"type":"certificate_proof","signature":"y"}\n'
                       'b{"type":"certificate_submit"}\n',
    "channel-lifecycle": 'a{"type":"channel_request","peer":2}\n'
                         'b{"type":"channel_accept","session":"' + S + '"}\n'
                         'a{"type":"channel_accept","session":"' + S + '"}\n'
                         'a{"type":"channel_end","session":"' + S + '"}\n',
    "channel-reject": 'a{"type":"channel_request","peer":2}\n'
                      'b{"type":"channel_reject","session":"' + S + '"}\n'
                      'a{"type":"channel_request","peer":99}\n'
                      'a{"type":"channel_request","peer":"2"}\n',
    "channel-compromised": 'a{"type":"channel_request","peer":2}\n'
                           'b{"type":"channel_accept","session":"' + S + '"}\n'
                           'a{"type":"channel_accept","session":"' + S + '"}\n'
                           'b{"type":"channel_end","session":"' + S + '","reason":"bad_mac"}\n',
    "offer-expires": 'a{"type":"channel_request","peer":2}\n+\n'
                     'b{"type":"channel_accept","session":"' + S + '"}\n',
    "rate-limited": 'a{"type":"ping"}\n' * 40 + "+\n" + 'a{"type":"ping"}\n',
}
room_lines = [
    'a{"type":"room_join","room":"lobby"}',
    'b{"type":"room_join","room":"LOBBY"}',
    'a{"type":"room_join","room":"secret","private":true}',
    'a{"type":"room_invite","room":"secret","user":"bob"}',
    'a{"type":"room_uninvite","room":"secret","user":"bob"}',
    'a{"type":"room_list"}',
    'a{"type":"room_who","room":"lobby"}',
    'a{"type":"user_whereis","user":"bob"}',
    'm{"type":"mod_whois","user":"alice"}',
    'm{"type":"mod_kick","user":"bob","minutes":5}',
    'm{"type":"mod_bans"}',
    'm{"type":"mod_unban","user":"bob"}',
    'a{"type":"room_leave","room":"lobby"}',
]
control_inputs["rooms"] = "\n".join(room_lines) + "\n"
for name, text in control_inputs.items():
    write("control", name, text)

# --- room: the rooms' commands and names straight to the room hub ----------------------------
room_inputs = {
    "join-leave": 'a{"type":"room_join","room":"lobby"}\na{"type":"room_who","room":"lobby"}\n'
                  'a{"type":"room_leave","room":"lobby"}\n',
    "private": 'a{"type":"room_join","room":"Secret Room","private":true}\n'
               'a{"type":"room_invite","room":"Secret Room","user":"bob"}\n'
               'a{"type":"room_invite","room":"Secret Room","user":"nobody"}\n'
               'a{"type":"room_uninvite","room":"Secret Room","user":"bob"}\n'
               'm{"type":"room_join","room":"secret room"}\n',
    "names": 'a{"type":"room_join","room":""}\na{"type":"room_join","room":"  "}\n'
             'a{"type":"room_join","room":"' + "x" * 65 + '"}\n'
             'a{"type":"room_join","room":"caf\\u00e9"}\na{"type":"room_join","room":"a\\u0000b"}\n'
             'a{"type":"room_join","room":"0123456789abcdef0123456789abcdef"}\n'
             'a{"type":"room_join","room":7}\na{"type":"room_join"}\n',
    "moderation": 'a{"type":"room_join","room":"lobby"}\nm{"type":"mod_whois","user":"alice"}\n'
                  'a{"type":"mod_whois","user":"mod"}\nm{"type":"mod_kick","user":"alice","minutes":5}\n'
                  'a{"type":"room_join","room":"lobby"}\nm{"type":"mod_bans"}\n+\n'
                  'x{"type":"mod_unban","user":"alice"}\nm{"type":"mod_kick","user":"root"}\n'
                  'm{"type":"mod_kick","user":"alice","minutes":-1}\n'
                  'm{"type":"mod_kick","user":"alice","minutes":1e308}\n',
    "whereis": 'a{"type":"user_whereis","user":"bob"}\na{"type":"user_whereis","user":"mod"}\n'
               'a{"type":"user_whereis"}\na{"type":"room_list"}\nx{"type":"room_nothing"}\n',
}
for name, text in room_inputs.items():
    write("room", name, text)

# --- http: requests the router tests make, and paths the static-file tests try ---------------
def request(method, target, body="", headers=None):
    head = [f"{method} {target} HTTP/1.1", "Host: localhost:8443"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    if body or method in ("POST", "DELETE"):
        head.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(head) + "\r\n\r\n" + body


JSON = {"Content-Type": "application/json", "Origin": "https://localhost:8443"}
LOGIN = dict(JSON, Cookie="__Host-sid=LOGIN")
http_inputs = {
    "register": request("POST", "/api/v1/accounts", '{"username":"bob","password":"correct horse battery"}', JSON),
    "register-weak": request("POST", "/api/v1/accounts", '{"username":"bob","password":"short"}', JSON),
    "register-bad-json": request("POST", "/api/v1/accounts", "{not json", JSON),
    "register-deep": request("POST", "/api/v1/accounts", "[" * 100 + "]" * 100, JSON),
    "register-no-origin": request("POST", "/api/v1/accounts", "{}", {"Content-Type": "application/json"}),
    "register-text": request("POST", "/api/v1/accounts", "{}", {"Content-Type": "text/plain", "Origin": "https://localhost:8443"}),
    "login": request("POST", "/api/v1/session", '{"username":"ALICE","password":"correct horse battery"}', JSON),
    "me": request("GET", "/api/v1/me", "", LOGIN),
    "me-anonymous": request("GET", "/api/v1/me"),
    "logout": request("DELETE", "/api/v1/session", "", LOGIN),
    "password": request("POST", "/api/v1/password", '{"current":"correct horse battery","new":"another horse battery"}', LOGIN),
    "turn": request("GET", "/api/v1/turn", "", LOGIN),
    "sip": request("GET", "/api/v1/sip", "", LOGIN),
    "mail": request("GET", "/api/v1/mail/folders", "", LOGIN),
    "admin-users": request("GET", "/api/v1/admin/users?offset=0&limit=10", "", LOGIN),
    "admin-disable": request("POST", "/api/v1/admin/users/bob/disable", "{}", LOGIN),
    "nothing": request("GET", "/api/v1/nothing"),
    "wrong-method": request("GET", "/api/v1/accounts"),
    "healthz": request("GET", "/healthz"),
    "metrics": request("GET", "/metrics"),
    "index": request("GET", "/"),
    "app": request("GET", "/app.html"),
    "asset": request("GET", "/assets/app-ABC.js?v=1#x"),
    "head-asset": request("HEAD", "/assets/app-ABC.js"),
    "worker": request("GET", "/assets/worker-PNTTJ56U.js"),
    "traversal": request("GET", "/assets/%2e%2e/%2e%2e/etc/passwd"),
    "encoded-slash": request("GET", "/assets%2fapp-ABC.js"),
    "backslash": request("GET", "/assets\\app-ABC.js"),
    "double-slash": request("GET", "//assets/app-ABC.js"),
    "absolute-form": request("GET", "https://localhost:8443/"),
    "options": request("OPTIONS", "*"),
    "path-only": "/assets/%41pp-ABC.js?x#y",
    "path-truncated-escape": "/a%4",
}
for name, text in http_inputs.items():
    write("http", name, text)

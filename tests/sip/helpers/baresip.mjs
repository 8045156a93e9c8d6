// baresip (Debian's baresip-core) as a SIP phone for the interop tests: its own HOME and
// configuration in a temporary directory, one account registered over UDP with a phone
// credential made by POST /api/v1/sip/devices, a generated sine wave as its microphone (aufile),
// what it hears written to WAV files (sndfile), its SIP trace (-s) in log(), and its ctrl_tcp module to drive it: netstring
// JSON commands (menu commands: dial, accept, hangup, hold, resume, sndcode) and events
// (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START, REGISTER_OK…).

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../helpers/secms-server.mjs';

const MODULES = '/usr/lib/baresip/modules';
const SAMPLE_RATE = 8000;   // G.711, the codec baresip is given

/** A mono 16-bit PCM WAV of a sine wave. */
export function sineWav({ seconds = 30, hz = 440, rate = SAMPLE_RATE } = {}) {
  const samples = seconds * rate;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);          // PCM
  header.writeUInt16LE(1, 22);          // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Throws unless baresip can be run. */
export function assertBaresipInstalled() {
  const probe = spawnSync('baresip', ['-h'], { encoding: 'utf8' });
  if (probe.error) throw new Error(`baresip is needed for the SIP interop tests (${probe.error.message}); scripts/install-deps.sh installs it`);
}

// One netstring out of `buffer` ("<len>:<payload>,"), or null when incomplete.
function takeNetstring(state) {
  const colon = state.buffer.indexOf(':');
  if (colon < 0) return null;
  const length = Number(state.buffer.subarray(0, colon).toString());
  if (state.buffer.length < colon + 1 + length + 1) return null;
  const payload = state.buffer.subarray(colon + 1, colon + 1 + length).toString();
  state.buffer = state.buffer.subarray(colon + 1 + length + 1);
  return payload;
}

/**
 * Starts baresip with the account `credentials` (the `credentials` of a POST
 * /api/v1/sip/devices answer) registering to the edge's UDP port, or over TLS to `edgeTlsPort`
 * when given. `caFile` (the app's certificate) is what baresip is told to trust; baresip 1.0
 * (libre 1.1) does not verify a SIP server's certificate whatever it is given (its verify
 * callback accepts every chain), so over TLS the link is encrypted, not authenticated, by this
 * phone. Resolves
 * { aor, events, waitEvent(type, accept?), command(cmd, params), decodedBytes(), log(), stop() }.
 */
export async function startBaresip({ credentials, edgeUdpPort, edgeTlsPort = null, caFile = null }) {
  assertBaresipInstalled();
  const home = await mkdtemp(path.join(os.tmpdir(), 'secms-baresip-'));
  const dumps = path.join(home, 'dumps');
  await mkdir(dumps);
  const wav = path.join(home, 'sine.wav');
  // aufile does not loop: at the file's end baresip hangs up ("audio error (0,end of file)"),
  // so the tone outlasts any call of a test.
  await writeFile(wav, sineWav({ seconds: 600 }));
  const ctrlPort = await freePort();
  const config = [
    // Port 0: baresip binds UDP and TCP to the port given and TLS to the one after it, which a
    // free-port probe does not reserve; the kernel's choice for each cannot collide.
    'sip_listen\t127.0.0.1:0',
    `sip_trans_def\t${edgeTlsPort ? 'tls' : 'udp'}`,
    ...(caFile ? [`sip_cafile\t${caFile}`] : []),
    'net_interface\t127.0.0.1',   // the test's namespace has only loopback, which baresip skips otherwise
    `audio_source\taufile,${wav}`,
    'audio_player\taubridge,nowhere',
    'audio_alert\taubridge,nowhere',
    'audio_srate\t8000',
    'audio_channels\t1',
    'rtp_stats\tyes',
    `module_path\t${MODULES}`,
    'module\tg711.so',
    'module\taufile.so',
    'module\taubridge.so',
    'module\tsndfile.so',
    `snd_path\t${dumps}`,
    'module_app\taccount.so',
    'module_app\tmenu.so',
    'module_app\tctrl_tcp.so',
    `ctrl_tcp_listen\t127.0.0.1:${ctrlPort}`,
    '',
  ].join('\n');
  await writeFile(path.join(home, 'config'), config, { mode: 0o600 });
  const transport = edgeTlsPort ? 'tls' : 'udp';
  const proxy = edgeTlsPort ? `sip:127.0.0.1:${edgeTlsPort};transport=tls` : `sip:127.0.0.1:${edgeUdpPort};transport=udp`;
  const account = `<${credentials.aor};transport=${transport}>;auth_user=${credentials.username};auth_pass=${credentials.password}` +
    `;outbound="${proxy}";regint=300;answermode=manual;audio_codecs=PCMU,PCMA\n`;
  await writeFile(path.join(home, 'accounts'), account, { mode: 0o600 });
  await writeFile(path.join(home, 'contacts'), '', { mode: 0o600 });

  let output = '';
  const child = spawn('baresip', ['-f', home, '-s'], { cwd: home, env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  // ctrl_tcp: connect once it listens.
  let socket = null;
  for (let attempt = 0; attempt < 100 && !socket; attempt += 1) {
    socket = await new Promise((resolve) => {
      const s = net.connect({ port: ctrlPort, host: '127.0.0.1' });
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (!socket) await new Promise((r) => setTimeout(r, 100));
  }
  if (!socket) {
    child.kill('SIGKILL');
    throw new Error(`baresip's ctrl_tcp did not listen:\n${output.slice(-2000)}`);
  }
  const events = [];
  const responses = new Map();
  const state = { buffer: Buffer.alloc(0) };
  socket.on('data', (chunk) => {
    state.buffer = Buffer.concat([state.buffer, chunk]);
    for (let payload = takeNetstring(state); payload !== null; payload = takeNetstring(state)) {
      let message;
      try {
        message = JSON.parse(payload);
      } catch {
        continue;
      }
      if (message.event) events.push(message);
      else if (message.response && message.token) responses.get(message.token)?.(message);
    }
  });
  let nextToken = 1;

  const phone = {
    aor: credentials.aor,
    events,
    // Without the call status line the menu module redraws several times a second, which
    // would push the SIP trace out of a failure's message.
    log: () => output.replace(/[\r\s]*\[\d+:\d\d:\d\d\] audio=\d+\/\d+ \(bit\/s\)/g, ''),
    /** Sends a menu command; resolves its response { ok, data }. */
    command(command, params = '') {
      const token = String(nextToken++);
      const json = JSON.stringify({ command, params, token });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`baresip: no answer to ${command}`)), 10_000);
        responses.set(token, (message) => {
          clearTimeout(timer);
          responses.delete(token);
          resolve(message);
        });
        socket.write(`${Buffer.byteLength(json)}:${json},`);
      });
    },
    /**
     * Waits until the account is registered, read from the `reginfo` command: baresip registers as
     * it starts, often before ctrl_tcp has a client, so its REGISTER_OK event may go to no one.
     */
    async waitRegistered(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        // Status words are coloured with ANSI escapes ("\x1b[32mOK \x1b[;m").
        last = String((await phone.command('reginfo')).data ?? '').replace(/\x1b\[[0-9;]*m/g, '');
        if (/\bOK\b/.test(last)) return last;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`baresip did not register: ${JSON.stringify(last)}\n${output.slice(-1500)}`);
    },
    /** Waits for an event of `type` (and accept(event)) seen since the start. */
    async waitEvent(type, accept = () => true, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = events.find((e) => e.type === type && accept(e));
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`baresip: no ${type} event; events: ${JSON.stringify(events.map((e) => [e.type, e.param]))}\n${output.slice(-1500)}`);
    },
    /** Bytes of the decoded audio baresip wrote (what it heard). */
    async decodedBytes() {
      let total = 0;
      for (const name of await readdir(dumps)) if (name.includes('dec')) total += (await stat(path.join(dumps, name))).size;
      return total;
    },
    /**
     * The loudest 16-bit sample baresip decoded in the newest call (each call has its own dump
     * file): tells sound from silence.
     */
    async decodedPeak() {
      const names = (await readdir(dumps)).filter((name) => name.includes('dec'));
      if (names.length === 0) return 0;
      const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(path.join(dumps, name))).mtimeMs })));
      dated.sort((a, b) => b.mtime - a.mtime);
      const wav = await readFile(path.join(dumps, dated[0].name));
      const data = wav.indexOf('data', 12);   // libsndfile's header may carry more chunks than 44 bytes
      let peak = 0;
      for (let i = data + 8; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
      return peak;
    },
    async stop() {
      socket.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5000));
        if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
      }
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
  return phone;
}

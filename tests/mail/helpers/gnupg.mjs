// GnuPG as the other side of the interop tests: a throw-away GNUPGHOME, keys made by gpg
// (ed25519 signing + cv25519 encryption, no passphrase), import/export, encrypt+sign, decrypt
// with the status lines parsed. Fails with a message (never skips) when gpg is missing.
//
//   const gpg = await gnupgHome();
//   const carol = await gpg.generateKey({ name: 'Carol', email: 'carol@localhost' });
//   const armored = await gpg.encryptSign({ data, recipients: [aliceFpr], signer: carol.fingerprint });
//   await gpg.close();

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const GPG_TIMEOUT_MS = 60_000;

function exec(command, args, { env, input } = {}) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      reject(error);
      return;
    }
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), GPG_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT'
        ? new Error(`${command} is not installed (scripts/install-deps.sh installs gnupg)`)
        : error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {});  // gpg may exit before reading everything (bad input)
    child.stdin.end(input ?? '');
  });
}

/** "[GNUPG:] KEYWORD args…" lines of a status stream, as [{ keyword, args: [...] }]. */
export function statusLines(text) {
  return text.split('\n').filter((line) => line.startsWith('[GNUPG:] ')).map((line) => {
    const [keyword, ...args] = line.slice(9).trim().split(' ');
    return { keyword, args };
  });
}

export async function gnupgHome() {
  // Short path: gpg-agent's socket lives in the home and a Unix socket path is ≤ 107 bytes.
  const home = await mkdtemp(path.join(os.tmpdir(), 'gpg-'));
  const env = { ...process.env, GNUPGHOME: home, LANG: 'C', LC_ALL: 'C' };
  const gpg = async (args, { input, allowFailure = false } = {}) => {
    const result = await exec('gpg', [
      '--batch', '--no-tty', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '',
      '--trust-model', 'always', '--status-fd', '2', ...args,
    ], { env, input });
    if (result.code !== 0 && !allowFailure) {
      throw new Error(`gpg ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    }
    return result;
  };
  await gpg(['--list-keys']);  // creates the keyring files

  return {
    home,
    gpg,
    /** A new key pair; resolves { fingerprint (40 hex upper), email, armoredPublic }. */
    async generateKey({ name, email }) {
      const { stderr } = await gpg(['--quick-generate-key', `${name} <${email}>`, 'future-default', 'default', 'never']);
      const created = statusLines(stderr).find((line) => line.keyword === 'KEY_CREATED');
      if (!created) throw new Error(`gpg made no key: ${stderr}`);
      const fingerprint = created.args[1].toUpperCase();
      return { fingerprint, email, armoredPublic: await this.exportPublic(fingerprint) };
    },
    async exportPublic(fingerprint) {
      const { stdout } = await gpg(['--armor', '--export', fingerprint]);
      const text = stdout.toString('utf8');
      if (!text.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new Error(`gpg exported no key for ${fingerprint}`);
      return text;
    },
    /** Imports an armored key; resolves the fingerprints gpg reports (IMPORT_OK). */
    async importKey(armored) {
      const { stderr } = await gpg(['--import'], { input: armored });
      return statusLines(stderr).filter((line) => line.keyword === 'IMPORT_OK').map((line) => line.args[1].toUpperCase());
    },
    /** Encrypts (to every recipient fingerprint) and signs with `signer`; resolves the armored message. */
    async encryptSign({ data, recipients, signer }) {
      const args = ['--armor', '--encrypt', '--sign', '--local-user', signer];
      for (const recipient of recipients) args.push('--recipient', recipient);
      const { stdout } = await gpg(args, { input: data });
      return stdout.toString('utf8');
    },
    /** A detached armored signature over `data` (multipart/signed). */
    async detachSign({ data, signer }) {
      const { stdout } = await gpg(['--armor', '--detach-sign', '--digest-algo', 'SHA256', '--local-user', signer], { input: data });
      return stdout.toString('utf8');
    },
    /**
     * Decrypts (and verifies) an armored message. Resolves { ok, data (Buffer), status (lines),
     * goodSignature: fingerprint of a GOOD/VALID signature or null, stderr }.
     */
    async decrypt(armored) {
      const { code, stdout, stderr } = await gpg(['--decrypt'], { input: armored, allowFailure: true });
      const status = statusLines(stderr);
      const valid = status.find((line) => line.keyword === 'VALIDSIG');
      const good = status.some((line) => line.keyword === 'GOODSIG');
      return {
        ok: code === 0 && status.some((line) => line.keyword === 'DECRYPTION_OKAY'),
        data: stdout,
        status,
        goodSignature: good && valid ? valid.args[9]?.toUpperCase() ?? valid.args[0].toUpperCase() : null,
        signerFingerprint: valid ? valid.args[0].toUpperCase() : null,
        stderr,
      };
    },
    async close() {
      await exec('gpgconf', ['--kill', 'all'], { env }).catch(() => {});
      await rm(home, { recursive: true, force: true });
    },
  };
}

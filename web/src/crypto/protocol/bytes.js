// Byte helpers shared by the protocol modules. Runtime-neutral (Node and Worker).
import { ChannelError } from './errors.js';

const textEncoder = new TextEncoder();

export function utf8(text) {
  return textEncoder.encode(text);
}

export function concatBytes(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Non-secret comparison (public keys, fingerprints, session ids). Secrets go through HMAC verify. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes) {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ChannelError('invalid_argument', 'not a hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toBase64Url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Overwrites buffers that held secrets (raw DH output, raw derived keys) once they are imported. */
export function zeroize(...buffers) {
  for (const buffer of buffers) {
    if (buffer instanceof Uint8Array) buffer.fill(0);
    else if (buffer instanceof ArrayBuffer) new Uint8Array(buffer).fill(0);
  }
}

export function isBytes(value) {
  return value instanceof Uint8Array;
}

/** Accepts Uint8Array or a hex string (fingerprints are often shown as hex). */
export function bytesFromOption(name, value) {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (typeof value === 'string') {
    try {
      return fromHex(value.replace(/\s+/g, ''));
    } catch {
      throw new ChannelError('invalid_argument', `${name} is not hex`);
    }
  }
  throw new ChannelError('invalid_argument', `${name} must be a Uint8Array or a hex string`);
}

/** OpenPGP.js-style option checking: unknown options are a programming error, not ignored. */
export function checkOptions(functionName, options, allowed, required = []) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ChannelError('invalid_argument', `${functionName}: expects one options object`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ChannelError('invalid_argument', `${functionName}: unknown option: ${key}`);
    }
  }
  for (const key of required) {
    if (options[key] === undefined) {
      throw new ChannelError('invalid_argument', `${functionName}: missing option: ${key}`);
    }
  }
}

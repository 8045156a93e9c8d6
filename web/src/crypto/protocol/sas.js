// Short authentication string: what two people read to each other out of band to confirm
// that no one sits between them. Both sides derive it from committed values only
// (key-schedule.js deriveSasBytes: the initiator's committed secret sA, the responder's sB and
// TH_keyshare), so a man in the middle cannot grind it and gets one guess per handshake.
//
// Two forms, each sufficient alone (the sizes Matrix uses for its SAS):
//   emoji:   the top 42 bits of sas_bytes[0..5] (big-endian) → 7 indices of 6 bits into
//            SAS_EMOJI (64 entries, chosen to be easy to name and hard to confuse): 2^-42;
//   decimal: the top 39 bits of sas_bytes[6..10] (big-endian) → 3 numbers of 13 bits + 1000,
//            each 1000–9191, 12 digits: 2^-39.
import { ChannelError } from './errors.js';

/** Index → [emoji, English name]. Fixed: changing it changes every SAS (and the KATs). */
export const SAS_EMOJI = Object.freeze([
  ['\u{1F436}', 'dog'], ['\u{1F431}', 'cat'], ['\u{1F981}', 'lion'], ['\u{1F40E}', 'horse'],
  ['\u{1F984}', 'unicorn'], ['\u{1F437}', 'pig'], ['\u{1F418}', 'elephant'], ['\u{1F430}', 'rabbit'],
  ['\u{1F43C}', 'panda'], ['\u{1F413}', 'rooster'], ['\u{1F427}', 'penguin'], ['\u{1F422}', 'turtle'],
  ['\u{1F41F}', 'fish'], ['\u{1F419}', 'octopus'], ['\u{1F98B}', 'butterfly'], ['\u{1F337}', 'tulip'],
  ['\u{1F333}', 'tree'], ['\u{1F335}', 'cactus'], ['\u{1F344}', 'mushroom'], ['\u{1F30F}', 'globe'],
  ['\u{1F319}', 'moon'], ['\u{2601}\u{FE0F}', 'cloud'], ['\u{1F525}', 'fire'], ['\u{1F34C}', 'banana'],
  ['\u{1F34E}', 'apple'], ['\u{1F353}', 'strawberry'], ['\u{1F33D}', 'corn'], ['\u{1F355}', 'pizza'],
  ['\u{1F382}', 'cake'], ['\u{2764}\u{FE0F}', 'heart'], ['\u{1F600}', 'smiley'], ['\u{1F916}', 'robot'],
  ['\u{1F3A9}', 'hat'], ['\u{1F453}', 'glasses'], ['\u{1F527}', 'spanner'], ['\u{1F385}', 'santa'],
  ['\u{1F44D}', 'thumbs up'], ['\u{2602}\u{FE0F}', 'umbrella'], ['\u{231B}', 'hourglass'], ['\u{23F0}', 'alarm clock'],
  ['\u{1F381}', 'gift'], ['\u{1F4A1}', 'light bulb'], ['\u{1F4D5}', 'book'], ['\u{270F}\u{FE0F}', 'pencil'],
  ['\u{1F4CE}', 'paperclip'], ['\u{2702}\u{FE0F}', 'scissors'], ['\u{1F512}', 'lock'], ['\u{1F511}', 'key'],
  ['\u{1F528}', 'hammer'], ['\u{260E}\u{FE0F}', 'telephone'], ['\u{1F3C1}', 'chequered flag'], ['\u{1F682}', 'train'],
  ['\u{1F6B2}', 'bicycle'], ['\u{2708}\u{FE0F}', 'aeroplane'], ['\u{1F680}', 'rocket'], ['\u{1F3C6}', 'trophy'],
  ['\u{26BD}', 'football'], ['\u{1F3B8}', 'guitar'], ['\u{1F3BA}', 'trumpet'], ['\u{1F514}', 'bell'],
  ['\u{2693}', 'anchor'], ['\u{1F3A7}', 'headphones'], ['\u{1F4C1}', 'folder'], ['\u{1F4CC}', 'pin'],
].map((entry) => Object.freeze(entry)));

export const SAS_EMOJI_COUNT = 7;
export const SAS_BYTES = 11;
export const SAS_DECIMAL_COUNT = 3;

/**
 * @param {Uint8Array} sasBytes 11 bytes from the key schedule
 * @returns {{emoji: {index:number, emoji:string, name:string}[], emojiText: string,
 *            decimal: number[], decimalText: string}}
 */
export function computeSas(sasBytes) {
  if (!(sasBytes instanceof Uint8Array) || sasBytes.length !== SAS_BYTES) {
    throw new ChannelError('invalid_argument', `SAS needs ${SAS_BYTES} bytes`);
  }
  // Big-endian integers of 48 and 40 bits; JS numbers hold both exactly (< 2^53).
  const readBits = (from, to) => {
    let value = 0;
    for (let i = from; i < to; i++) value = value * 256 + sasBytes[i];
    return value;
  };
  const emojiBits = readBits(0, 6);
  const emoji = [];
  for (let i = 0; i < SAS_EMOJI_COUNT; i++) {
    const index = Math.floor(emojiBits / 2 ** (42 - 6 * i)) % 64; // top 42 of 48 bits, 6 at a time
    emoji.push(Object.freeze({ index, emoji: SAS_EMOJI[index][0], name: SAS_EMOJI[index][1] }));
  }
  const decimalBits = readBits(6, 11);
  const decimal = [];
  for (let i = 0; i < SAS_DECIMAL_COUNT; i++) {
    const shift = 27 - 13 * i; // top 39 of 40 bits, 13 at a time
    decimal.push(Math.floor(decimalBits / 2 ** shift) % 8192 + 1000);
  }
  return Object.freeze({
    emoji: Object.freeze(emoji),
    emojiText: emoji.map((e) => e.emoji).join(' '),
    decimal: Object.freeze(decimal),
    decimalText: decimal.join('-'),
  });
}

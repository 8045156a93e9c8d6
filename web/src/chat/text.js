// Text rules shared by the chat modules: how a string is measured and which invisible
// characters are neutralised before anything is parsed or shown. Pure: no DOM, no globals,
// so the same rules run in the page, in a Worker and in node tests.
//
// Bidi handling (decision). Two layers, so that a name or a message can never reverse or
// otherwise restyle the text around it:
//   1. Here: the explicit bidi *formatting* characters — embeddings and overrides
//      U+202A–U+202E and isolates U+2066–U+2069 — are removed. They are stateful (an
//      unterminated RLO flips everything after it up to the end of the paragraph) and have no
//      use in chat that the renderer's isolation does not already cover. Also removed: the
//      deprecated format characters U+206A–U+206F and the interlinear annotation controls
//      U+FFF9–U+FFFB, which are invisible and unused in running text.
//   2. In the renderer (web/src/ui/chat-markup.js): every message and every name is put in its
//      own element with dir="auto", which HTML maps to `unicode-bidi: isolate`, so whatever
//      strong characters a text holds, they are contained in that element.
// Kept on purpose: LRM/RLM/ALM (U+200E, U+200F, U+061C) — ordinary strong characters that
// Hebrew and Arabic writers use for punctuation and that layer 2 contains; ZWJ/ZWNJ
// (U+200D, U+200C) — emoji sequences and Persian/Indic spelling need them.
// Other controls: NUL and the remaining C0/C1 controls (except TAB and LF) become U+FFFD, so
// they are visible rather than silently dropped; CR LF and a lone CR become LF.

// U+202A–U+202E, U+2066–U+2069, U+206A–U+206F, U+FFF9–U+FFFB.
const removedFormatCharacters = /[\u202A-\u202E\u2066-\u2069\u206A-\u206F\uFFF9-\uFFFB]/g;
const loneSurrogates = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0 except TAB (09) and LF (0A); DEL; C1.
const replacedControls = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** True when the text holds a character that neutraliseText would remove or replace. */
export function hasNeutralisedCharacters(text) {
  return /[\u202A-\u202E\u2066-\u2069\u206A-\u206F\uFFF9-\uFFFB\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(text);
}

/**
 * The predictable transform every chat text goes through before parsing: line ends to LF,
 * bidi and invisible format controls removed, other controls made visible as U+FFFD.
 * Lone surrogates become U+FFFD too, since they cannot be encoded to UTF-8 (a regular
 * expression rather than String#toWellFormed, which Firefox 115 lacks).
 */
export function neutraliseText(text) {
  return String(text)
    .replace(loneSurrogates, '\uFFFD')
    .replace(/\r\n?/g, '\n')
    .replace(removedFormatCharacters, '')
    .replace(replacedControls, '\uFFFD');
}

/**
 * Length in Unicode code points: an emoji outside the BMP counts 1 (UTF-16 length 2), a
 * combining mark counts 1 of its own. Code points, not grapheme clusters, because that is what
 * the server can count the same way cheaply (UTF-8 decoding, no Unicode tables).
 */
export function codePointLength(text) {
  let count = 0;
  for (const _ of String(text)) count += 1;
  return count;
}

/** The first `max` code points of text (never splits a surrogate pair). */
export function truncateCodePoints(text, max) {
  const s = String(text);
  let units = 0;
  let count = 0;
  for (const ch of s) {
    if (count === max) return s.slice(0, units);
    units += ch.length;
    count += 1;
  }
  return s;
}

/** A short, neutralised excerpt of user input for an error message ("…" marks a cut). */
export function excerpt(text, max = 40) {
  const clean = neutraliseText(text).replace(/\n/g, ' ');
  return codePointLength(clean) > max ? `${truncateCodePoints(clean, max - 1)}…` : clean;
}

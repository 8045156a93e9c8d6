import { test } from 'node:test';
import assert from 'node:assert/strict';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';
import { t, setLanguage, getLanguage, pickLanguage, onLanguageChange, supportedLanguages } from '../src/i18n/index.js';

const placeholders = (text) => [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

test('every English key exists in French and every French key in English', () => {
  assert.deepEqual(Object.keys(fr).filter((key) => !(key in en)), [], 'keys only in fr.js');
  assert.deepEqual(Object.keys(en).filter((key) => !(key in fr)), [], 'keys missing from fr.js');
});

test('translations use the same placeholders and are never empty', () => {
  for (const key of Object.keys(en)) {
    assert.ok(en[key].trim().length > 0, `en ${key} is empty`);
    assert.ok(fr[key].trim().length > 0, `fr ${key} is empty`);
    assert.deepEqual(placeholders(fr[key]), placeholders(en[key]), `placeholders of ${key}`);
  }
});

test('every API error code has a catalogue entry', async () => {
  const { knownErrorCodes } = await import('../src/net/api-client.js');
  for (const code of knownErrorCodes) assert.ok(`error.${code}` in en, `error.${code}`);
  assert.ok('error.network' in en && 'error.unknown' in en && 'error.rate_limited_seconds' in en);
});

test('pickLanguage matches by base language and falls back to English', () => {
  assert.equal(pickLanguage(['fr-CA', 'en-US']), 'fr');
  assert.equal(pickLanguage(['de-DE', 'en-GB']), 'en');
  assert.equal(pickLanguage(['de']), 'en');
  assert.equal(pickLanguage('FR'), 'fr');
  assert.equal(pickLanguage([]), 'en');
  assert.equal(pickLanguage([undefined, 42]), 'en');
});

test('t() fills placeholders, switches language and notifies listeners', () => {
  const seen = [];
  const stop = onLanguageChange((language) => seen.push(language));
  try {
    setLanguage('en');
    assert.equal(t('users.count', { count: 3 }), '3 online');
    setLanguage('fr');
    assert.equal(getLanguage(), 'fr');
    assert.equal(t('users.count', { count: 3 }), '3 en ligne');
    assert.equal(t('landing.registered', {}), fr['landing.registered'], 'missing parameter stays visible');
    assert.equal(t('no.such.key'), 'no.such.key');
    assert.deepEqual(seen, ['fr']);
    assert.throws(() => setLanguage('xx'), RangeError);
    assert.deepEqual(supportedLanguages, ['en', 'fr']);
  } finally {
    stop();
    setLanguage('en');
  }
});

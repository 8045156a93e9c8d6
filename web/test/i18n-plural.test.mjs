// Plural wording (issue 15): "1 member", not "1 members"; "delivered to 1 recipient", not
// "delivered to all 1"; French puts 0 and 1 in the singular.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';
import { t, setLanguage, pluralCategory } from '../src/i18n/index.js';

function inLanguage(language, run) {
  setLanguage(language);
  try {
    run();
  } finally {
    setLanguage('en');
  }
}

test('English: the singular for 1 only', () => inLanguage('en', () => {
  assert.equal(t('room.members_count', { count: 1 }), '1 member');
  assert.equal(t('room.members_count', { count: 0 }), '0 members');
  assert.equal(t('room.members_count', { count: 2 }), '2 members');
  assert.equal(t('chat.message.room_delivered', { count: 1, total: 1 }), 'delivered to 1 recipient');
  assert.equal(t('chat.message.room_delivered', { count: 3, total: 3 }), 'delivered to all 3');
  assert.equal(t('chat.system.room_lines_missing', { count: 1, name: 'bob' }), '1 line from bob did not arrive (dropped on the way).');
  assert.equal(t('chat.system.room_lines_missing', { count: 4, name: 'bob' }), '4 lines from bob did not arrive (dropped on the way).');
}));

test('French: the singular for 0 and 1', () => inLanguage('fr', () => {
  assert.equal(t('room.members_count', { count: 1 }), '1 membre');
  assert.equal(t('room.members_count', { count: 0 }), '0 membre');
  assert.equal(t('room.members_count', { count: 5 }), '5 membres');
  assert.equal(t('chat.message.room_delivered', { count: 1, total: 1 }), 'remis à 1 destinataire');
  assert.equal(t('chat.message.room_delivered', { count: 2, total: 2 }), 'remis aux 2');
  assert.equal(t('chat.unread', { count: 1 }), '1 non lu');
  assert.equal(t('chat.unread', { count: 7 }), '7 non lus');
  // CLDR gives French a 'many' form for millions; the catalogue has none, so '.other' is used.
  assert.equal(pluralCategory('fr', 1_000_000), 'many');
  assert.equal(t('room.members_count', { count: 1_000_000 }), '1000000 membres');
}));

test('a count that is not a number takes the general form; plain keys are unchanged', () => inLanguage('en', () => {
  assert.equal(t('room.members_count', { count: '1' }), '1 members');
  assert.equal(t('room.members_count'), '{count} members');
  assert.equal(t('users.count', { count: 1 }), '1 online');
}));

test('every plural key has its general form in both languages, and no plain key beside it', () => {
  for (const catalogue of [en, fr]) {
    for (const key of Object.keys(catalogue)) {
      const match = /^(.*)\.(zero|one|two|few|many)$/.exec(key);
      if (!match) continue;
      assert.ok(`${match[1]}.other` in catalogue, `${key} without ${match[1]}.other`);
      assert.ok(!(match[1] in catalogue), `${match[1]} is both plain and plural`);
    }
  }
});

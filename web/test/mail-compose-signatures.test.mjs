// Signatures per identity (issue 11 "signatures per identity"): which signature an identity has
// (prefs.signatures, the older prefs.signature for the mailbox address), and the swap when the
// From identity changes (as Thunderbird does: only a signature still unchanged in the body).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore, mailPrefCheckers } from '../src/state/mail-store.js';
import { createComposer, signatureBlock, signatureFor, swapSignature } from '../src/app/mail-compose.js';

const mailbox = 'me@localhost';
const external = 'Me@Example.org';

test('signatureFor: per identity, case-insensitive; the old single signature is the mailbox address\'s only', () => {
  const prefs = { signature: 'Old one', signatures: { 'me@example.org': 'External sig' } };
  assert.equal(signatureFor(prefs, external, mailbox), 'External sig');
  assert.equal(signatureFor(prefs, mailbox, mailbox), 'Old one');
  assert.equal(signatureFor({ signature: 'Old one', signatures: { [mailbox]: 'New one' } }, 'ME@localhost', mailbox), 'New one');
  assert.equal(signatureFor({ signature: 'Old one' }, external, mailbox), '', 'the old signature is not the external identity\'s');
  assert.equal(signatureFor({ signature: 'Old one', signatures: { [mailbox]: '' } }, mailbox, mailbox), '', 'an emptied signature stays empty');
  assert.equal(signatureFor({}, null, mailbox), '');
});

test('swapSignature: the old block unchanged is replaced; an edited one stays; none → the new one is added', () => {
  const body = `Hello Bob${signatureBlock('Alice\nACME')}`;
  assert.equal(swapSignature(body, 'Alice\nACME', 'Alice (home)'), `Hello Bob\n\n-- \nAlice (home)`);
  assert.equal(swapSignature(body, 'Alice\nACME', ''), 'Hello Bob', 'no new signature: the old block goes');
  const edited = body.replace('ACME', 'ACME Corp');
  assert.equal(swapSignature(edited, 'Alice\nACME', 'Alice (home)'), edited, 'the user changed it: left alone');
  assert.equal(swapSignature('Hello', '', 'Sig'), 'Hello\n\n-- \nSig');
  assert.equal(swapSignature('Hello', '', ''), 'Hello');
  assert.equal(swapSignature(body, 'Alice\nACME', 'Alice\nACME'), body);
  // A quoted signature above (a reply) is not touched: only the last copy, the own one, is.
  const reply = `Thanks\n\n> text${signatureBlock('Sig')}\n> more${signatureBlock('Sig')}`;
  assert.equal(swapSignature(reply, 'Sig', 'Other'), `Thanks\n\n> text${signatureBlock('Sig')}\n> more${signatureBlock('Other')}`);
});

test('the signatures preference is checked: addresses to strings, bounded', () => {
  const check = mailPrefCheckers.signatures;
  assert.equal(check({ [mailbox]: 'x', 'a@example.org': '' }), true);
  assert.equal(check({}), true);
  assert.equal(check({ 'not an address': 'x' }), false);
  assert.equal(check({ [mailbox]: 5 }), false);
  assert.equal(check({ [mailbox]: 'x'.repeat(4001) }), false);
  assert.equal(check([]), false);
  assert.equal(check(null), false);
  assert.equal(check(Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`u${index}@x.org`, '']))), false);
});

function composerWith(prefs, format = 'plain') {
  const store = createMailStore();
  store.setPrefs({ ...prefs, composeFormat: format });
  let next = 0;
  const composer = createComposer({
    api: {}, store, mime: {}, keys: null, crypto: () => null, now: () => 0,
    schedule: () => 1, unschedule: () => {}, newId: () => `d${++next}`, ownAddresses: () => [mailbox, external],
  });
  return { store, composer };
}

test('compose: a new message has the mailbox identity\'s signature; switching From swaps it (plain), both ways', async () => {
  const { store, composer } = composerWith({ signatures: { [mailbox]: 'Work sig', [external]: 'Home sig' } });
  const id = await composer.compose({ mode: 'new' });
  assert.equal(store.draft(id).from, mailbox);
  assert.equal(store.draft(id).text, '\n\n-- \nWork sig');
  composer.updateDraft(id, { text: 'Hi Bob\n\n-- \nWork sig' });
  assert.equal(composer.updateDraft(id, { from: external }).text, 'Hi Bob\n\n-- \nHome sig');
  assert.equal(composer.updateDraft(id, { from: mailbox }).text, 'Hi Bob\n\n-- \nWork sig');
  composer.updateDraft(id, { text: 'Hi Bob\n\n-- \nWork sig, edited' });
  assert.equal(composer.updateDraft(id, { from: external }).text, 'Hi Bob\n\n-- \nWork sig, edited', 'an edited signature is kept');
});

test('compose: the old single signature still signs the mailbox identity; an identity without one gets nothing', async () => {
  const { store, composer } = composerWith({ signature: 'Saved long ago' });
  const id = await composer.compose({ mode: 'new' });
  assert.equal(store.draft(id).text, '\n\n-- \nSaved long ago');
  assert.equal(composer.updateDraft(id, { from: external }).text, '', 'the external identity has no signature: the old block goes');
  assert.equal(composer.updateDraft(id, { from: mailbox }).text, '\n\n-- \nSaved long ago');
});

test('compose: a rich draft\'s From change leaves the text to the form (its editor swaps in the DOM)', async () => {
  const { store, composer } = composerWith({ signatures: { [mailbox]: 'Work sig', [external]: 'Home sig' } }, 'rich');
  const id = await composer.compose({ mode: 'new' });
  assert.equal(store.draft(id).format, 'rich');
  const after = composer.updateDraft(id, { from: external });
  assert.equal(after.from, external);
  assert.equal(after.text, '\n\n-- \nWork sig');
  assert.equal(composer.updateDraft(id, { from: mailbox, text: 'from the editor', html: '<b>x</b>' }).text, 'from the editor');
});

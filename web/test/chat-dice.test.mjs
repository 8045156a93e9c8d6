import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createContribution, createDiceRoll, commitmentOf, diceFromSeed, uniformFromUint32, rollSeed, commitSetHash,
  newRollId, fromHex, toHex, DiceError,
} from '../src/chat/dice.js';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';

// Deterministic "randomness" for reproducible tests: SHA-256 in counter mode over a label.
function fixedRandom(label) {
  let counter = 0;
  return (bytes) => {
    for (let at = 0; at < bytes.length; at += 32) {
      const block = createHash('sha256').update(`${label}/${counter++}`).digest();
      bytes.set(block.subarray(0, Math.min(32, bytes.length - at)), at);
    }
    return bytes;
  };
}

const rollId = '00112233445566778899aabbccddeeff';
const spec = { count: 2, sides: 6 };

/** Runs one whole roll among `participants`; returns each participant's view of the result. */
async function playRoll({ participants, spec: rollSpec = spec, id = rollId, random = (p) => fixedRandom(p) }) {
  const shares = {};
  for (const participant of participants) shares[participant] = await createContribution({ rollId: id, participant, spec: rollSpec, random: random(participant) });
  const views = participants.map(() => createDiceRoll({ rollId: id, spec: rollSpec, participants, startedAt: 0 }));
  for (const view of views) {
    for (const participant of participants) assert.deepEqual(view.addCommitment({ participant, commitment: shares[participant].commitment }, 100), { ok: true });
  }
  const sets = await Promise.all(views.map((view) => view.commitSet()));
  for (const view of views) {
    for (const participant of participants) {
      const { nonce, contribution } = shares[participant];
      const answer = await view.addReveal({ participant, nonce, contribution, commitSet: sets[participants.indexOf(participant)] }, 200);
      assert.deepEqual(answer, { ok: true });
    }
  }
  return Promise.all(views.map((view) => view.result(300)));
}

test('a roll among three agrees everywhere and is reproducible from the same inputs', async () => {
  const results = await playRoll({ participants: ['alice', 'bob', 'carol'] });
  for (const result of results) assert.deepEqual(result, results[0]);
  assert.equal(results[0].dice.length, 2);
  for (const die of results[0].dice) assert.ok(die >= 1 && die <= 6);
  assert.equal(results[0].total, results[0].dice[0] + results[0].dice[1]);
  assert.deepEqual(await playRoll({ participants: ['alice', 'bob', 'carol'] }), results);
  // Participant order in the request does not change the result (ids are sorted).
  assert.deepEqual((await playRoll({ participants: ['carol', 'alice', 'bob'] }))[0], results[0]);
});

test('known-answer vector (docs/protocol.md, "Fair dice for /roll")', async () => {
  const [result] = await playRoll({ participants: ['alice', 'bob'], spec: { count: 3, sides: 6 } });
  const alice = await createContribution({ rollId, participant: 'alice', spec: { count: 3, sides: 6 }, random: fixedRandom('alice') });
  assert.equal(alice.nonce, createHash('sha256').update('alice/0').digest('hex'));
  assert.equal(alice.contribution, createHash('sha256').update('alice/1').digest('hex'));
  assert.equal(alice.commitment, 'c6e7c8b6cccc2a0a3d3ee7e96370dd4df2d6dae316aeff3c93bf18dc8d157e42');
  const bob = await createContribution({ rollId, participant: 'bob', spec: { count: 3, sides: 6 }, random: fixedRandom('bob') });
  assert.equal(bob.commitment, 'f004db21aa12a7d08778e9d581431f8add96ec393eecd1348e2c3a56e9d31dac');
  assert.equal(await commitSetHash({ rollId, spec: { count: 3, sides: 6 }, commitments: { bob: bob.commitment, alice: alice.commitment } }),
    '6de58a044affd4b06328f00cf3cf007a27fbad640ca09d7ea9f414a5b8f959b6');
  // Values computed independently (Python hashlib, struct) from the text of docs/protocol.md.
  assert.equal(result.seed, 'c65d64003ad8d85b325a02633aca2b0a04dcbf77afb50e000d4ba494695033af');
  assert.deepEqual(result.dice, [5, 1, 6]);
  const doc = await readFile(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Fair dice for /roll'));
  for (const value of [alice.commitment, bob.commitment, result.seed, '6de58a044affd4b06328f00cf3cf007a27fbad640ca09d7ea9f414a5b8f959b6', '5, 1, 6 (total 12)']) {
    assert.ok(section.includes(value), `docs/protocol.md lists ${value}`);
  }
});

test('rejection sampling: every face reachable, values past the last full multiple redrawn', () => {
  for (const sides of [2, 6, 7, 20, 1000]) {
    const faces = new Set();
    for (let v = 0; v < sides; v += 1) faces.add(uniformFromUint32(() => v, sides));
    assert.equal(faces.size, sides, `d${sides}`);
    assert.equal(Math.min(...faces), 1);
    assert.equal(Math.max(...faces), sides);
    const limit = 2 ** 32 - (2 ** 32 % sides);
    assert.equal(limit % sides, 0, 'every face has the same number of accepted values');
  }
  // d6: 2^32 mod 6 = 4, so the four top values are redrawn.
  const stream = [0xFFFFFFFF, 0xFFFFFFFC, 0xFFFFFFFB];
  let reads = 0;
  assert.equal(uniformFromUint32(() => stream[reads++], 6), 1 + (0xFFFFFFFB % 6));
  assert.equal(reads, 3);
  // d1000: 2^32 mod 1000 = 296.
  reads = 0;
  const high = [2 ** 32 - 296, 2 ** 32 - 297];
  assert.equal(uniformFromUint32(() => high[reads++], 1000), 1 + ((2 ** 32 - 297) % 1000));
  assert.equal(reads, 2);
});

function chiSquare(counts, expected) {
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

test('distribution: 20 000 d20 from fixed seeds pass a chi-square test; every d1000 face appears', async () => {
  const counts20 = new Array(20).fill(0);
  const seen1000 = new Set();
  for (let i = 0; i < 1000; i += 1) {
    const seed = createHash('sha256').update(`seed/${i}`).digest();
    for (const die of await diceFromSeed(seed, { count: 20, sides: 20 })) counts20[die - 1] += 1;
    for (const die of await diceFromSeed(seed, { count: 20, sides: 1000 })) seen1000.add(die);
  }
  // df = 19: 43.82 is the 0.999 quantile. Inputs are fixed, so this cannot flake.
  assert.ok(chiSquare(counts20, 1000) < 43.82, `chi2 ${chiSquare(counts20, 1000)} counts ${counts20}`);
  assert.equal(seen1000.size, 1000);
  assert.equal(Math.min(...seen1000), 1);
  assert.equal(Math.max(...seen1000), 1000);
});

test('distribution: 1 200 whole protocol runs of 1d6 between two participants', async () => {
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 1200; i += 1) {
    const id = createHash('sha256').update(`roll/${i}`).digest('hex').slice(0, 32);
    const [result] = await playRoll({ participants: ['alice', 'bob'], spec: { count: 1, sides: 6 }, id, random: (p) => fixedRandom(`${p}/${i}`) });
    counts[result.dice[0] - 1] += 1;
  }
  assert.ok(counts.every((c) => c > 0));
  // df = 5: 20.52 is the 0.999 quantile.
  assert.ok(chiSquare(counts, 200) < 20.52, `chi2 ${chiSquare(counts, 200)} counts ${counts}`);
});

test('one honest participant is enough: the others cannot steer the seed by choosing theirs', async () => {
  // Bob and Carol always contribute the same bytes; Alice's fresh randomness alone spreads the results.
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 300; i += 1) {
    const [result] = await playRoll({
      participants: ['alice', 'bob', 'carol'], spec: { count: 1, sides: 6 },
      random: (p) => (p === 'alice' ? fixedRandom(`alice/${i}`) : (bytes) => bytes.fill(7)),
    });
    counts[result.dice[0] - 1] += 1;
  }
  assert.ok(counts.every((c) => c > 20), `counts ${counts}`);
});

async function committedRoll(participants = ['alice', 'bob']) {
  const shares = {};
  for (const participant of participants) shares[participant] = await createContribution({ rollId, participant, spec, random: fixedRandom(participant) });
  const roll = createDiceRoll({ rollId, spec, participants, startedAt: 0, commitTimeoutMs: 1000, revealTimeoutMs: 1000 });
  return { roll, shares };
}

const assertError = (answer, code) => {
  assert.ok(answer.error, `expected ${code}, got ${JSON.stringify(answer)}`);
  assert.equal(answer.error.code, code);
  assert.equal(answer.error.messageKey, `chat.dice.error.${code}`);
  assert.ok(answer.error.messageKey in en && answer.error.messageKey in fr);
};

test('a mismatched reveal is refused and aborts the roll for good, naming who', async () => {
  for (const variant of ['flipped', 'wrong-nonce', 'alice-opening']) {
    const { roll, shares } = await committedRoll();
    roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10);
    roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 20);
    const set = await roll.commitSet();
    const flipped = shares.bob.contribution.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const bad = {
      flipped: { nonce: shares.bob.nonce, contribution: flipped },
      'wrong-nonce': { nonce: shares.alice.nonce, contribution: shares.bob.contribution },
      // Alice's opening, replayed as Bob's, does not open Bob's commitment (ids are bound).
      'alice-opening': { nonce: shares.alice.nonce, contribution: shares.alice.contribution },
    }[variant];
    assertError(await roll.addReveal({ participant: 'bob', ...bad, commitSet: set }, 30), DiceError.commitmentMismatch);
    assert.equal(roll.phase(), 'aborted', variant);
    assert.deepEqual(roll.abortedBy(), ['bob']);
    // Final: Bob's real opening afterwards (he saw Alice's and disliked the outcome) cannot complete it.
    assertError(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: set }, 31), DiceError.aborted);
    assertError(await roll.addReveal({ participant: 'bob', ...shares.bob, commitSet: set }, 32), DiceError.aborted);
    const ended = await roll.result(33);
    assertError(ended, DiceError.aborted);
    assert.equal(ended.error.params.participants, 'bob');
    assertError(roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 34), DiceError.aborted);
  }
});

test('the last reveal missing at the deadline: the roll ends incomplete, blaming nobody, and stays so', async () => {
  const { roll, shares } = await committedRoll();
  roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10);
  roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 20);
  const set = await roll.commitSet();
  assert.deepEqual(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: set }, 30), { ok: true });
  assert.deepEqual(await roll.result(500), { pending: ['bob'] });
  const missing = await roll.result(20 + 1001);
  assertError(missing, DiceError.missingReveal);
  assert.equal(missing.error.params.participants, 'bob');
  // Withheld by Bob or by the relay: this participant cannot tell, so nobody is named as aborting.
  assert.equal(roll.phase(), 'incomplete');
  assert.equal(roll.abortedBy(), null);
  assert.deepEqual(roll.notReceivedFrom(), ['bob']);
  // Final all the same: a reveal after the deadline cannot complete it (the last revealer could choose).
  assertError(await roll.addReveal({ participant: 'bob', ...shares.bob, commitSet: set }, 25), DiceError.missingReveal, 'not even with an earlier clock');
  assertError(await roll.result(25), DiceError.missingReveal);
});

test('a commitment still missing at the deadline fails the roll without an abort (nobody saw anything yet)', async () => {
  const { roll, shares } = await committedRoll();
  roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10);
  assertError(await roll.result(Infinity), DiceError.missingCommitment);
  assert.equal(roll.phase(), 'committing');
  assert.equal(roll.abortedBy(), null);
});

test('a copied commitment cannot be opened by the copier', async () => {
  const { roll, shares } = await committedRoll();
  roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10);
  roll.addCommitment({ participant: 'bob', commitment: shares.alice.commitment }, 20);  // Bob copies
  const set = await roll.commitSet();
  assert.deepEqual(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: set }, 30), { ok: true });
  assertError(await roll.addReveal({ participant: 'bob', nonce: shares.alice.nonce, contribution: shares.alice.contribution, commitSet: set }, 30), DiceError.commitmentMismatch);
});

test('missing, early and late reveals; late, changed and unknown commitments', async () => {
  const { roll, shares } = await committedRoll();
  assertError(roll.addCommitment({ participant: 'mallory', commitment: shares.alice.commitment }, 10), DiceError.unknownParticipant);
  assertError(roll.addCommitment({ participant: 'alice', commitment: 'zz' }, 10), DiceError.malformed);
  assertError(roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment.toUpperCase() }, 10), DiceError.malformed);
  assert.deepEqual(roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10), { ok: true });
  assert.deepEqual(roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 11), { ok: true }, 'a resend is harmless');
  assertError(roll.addCommitment({ participant: 'alice', commitment: shares.bob.commitment }, 12), DiceError.duplicateCommitment);
  const fakeSet = '00'.repeat(32);
  assertError(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: fakeSet }, 15), DiceError.earlyReveal);
  assertError(await roll.commitSet(), DiceError.missingCommitment);
  assertError(await roll.result(15), DiceError.missingCommitment);
  assert.deepEqual(roll.waitingFor(), ['bob']);
  assertError(roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 1001), DiceError.lateCommitment);
  assert.deepEqual(roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 1000), { ok: true });
  const set = await roll.commitSet();
  assertError(await roll.addReveal({ participant: 'alice', nonce: 'x', contribution: shares.alice.contribution, commitSet: set }, 1100), DiceError.malformed);
  assert.deepEqual(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: set }, 1100), { ok: true });
  assert.deepEqual(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: set }, 1101), { ok: true }, 'a resend is harmless');
  assert.deepEqual(await roll.result(1500), { pending: ['bob'] }, 'before the deadline: still waiting');
  assertError(await roll.addReveal({ participant: 'bob', ...shares.bob, commitSet: set }, 2001), DiceError.lateReveal);
  const missing = await roll.result(2001);
  assertError(missing, DiceError.missingReveal, 'the late reveal ended the roll, as not received in time');
  assert.equal(missing.error.params.participants, 'bob');
  assert.equal(roll.abortedBy(), null);
  assert.deepEqual(roll.notReceivedFrom(), ['bob']);
});

test('a reveal naming another commitment set voids the roll without blaming its author', async () => {
  const { roll, shares } = await committedRoll();
  roll.addCommitment({ participant: 'alice', commitment: shares.alice.commitment }, 10);
  roll.addCommitment({ participant: 'bob', commitment: shares.bob.commitment }, 20);
  assertError(await roll.addReveal({ participant: 'alice', ...shares.alice, commitSet: '00'.repeat(32) }, 30), DiceError.commitSetMismatch);
  // Alice may be honest and have been shown another member's second commitment.
  assert.equal(roll.phase(), 'void');
  assert.equal(roll.abortedBy(), null);
  assertError(await roll.result(31), DiceError.commitSetMismatch);
});

test('the relay withholds an honest participant\'s reveal from one member only: that member is told the reveal did not arrive, nobody is blamed', async () => {
  const participants = ['alice', 'bob', 'carol'];
  const rollId = newRollId();
  const spec = { count: 1, sides: 20 };
  const t0 = 1_000_000;
  const view = Object.fromEntries(participants.map((p) => [p, createDiceRoll({ rollId, spec, participants, startedAt: t0 })]));
  const mine = {};
  for (const p of participants) mine[p] = await createContribution({ rollId, participant: p, spec });
  for (const v of participants) for (const p of participants) assert.ok(view[v].addCommitment({ participant: p, commitment: mine[p].commitment }, t0 + 10).ok);
  const set = await view.alice.commitSet();
  for (const v of participants) for (const p of participants) {
    if (v === 'alice' && p === 'bob') continue;   // the relay withholds Bob's reveal from Alice
    assert.ok((await view[v].addReveal({ participant: p, nonce: mine[p].nonce, contribution: mine[p].contribution, commitSet: set }, t0 + 20)).ok);
  }
  const at = t0 + 10 + 31_000;   // past the reveal deadline
  const alice = await view.alice.result(at);
  assertError(alice, DiceError.missingReveal);
  assert.equal(alice.error.params.participants, 'bob');
  assert.equal(view.alice.abortedBy(), null, 'honest Bob is not named as having aborted');
  assert.deepEqual(view.alice.notReceivedFrom(), ['bob']);
  assert.match(en[alice.error.messageKey], /withheld in transit/);
  assert.match(fr[alice.error.messageKey], /retenue en route/);
  // Bob's reveal, let through late, does not complete the roll for Alice (final).
  assertError(await view.alice.addReveal({ participant: 'bob', nonce: mine.bob.nonce, contribution: mine.bob.contribution, commitSet: set }, at + 1), DiceError.missingReveal);
  // The others completed it, with the same dice.
  assert.deepEqual((await view.bob.result(at)).dice, (await view.carol.result(at)).dice);
});

test('inputs are checked', async () => {
  assert.throws(() => createDiceRoll({ rollId: 'short', spec, participants: ['a'], startedAt: 0 }), TypeError);
  assert.throws(() => createDiceRoll({ rollId, spec: { count: 0, sides: 6 }, participants: ['a'], startedAt: 0 }), RangeError);
  assert.throws(() => createDiceRoll({ rollId, spec: { count: 1, sides: 1 }, participants: ['a'], startedAt: 0 }), RangeError);
  assert.throws(() => createDiceRoll({ rollId, spec, participants: ['a', 'a'], startedAt: 0 }), TypeError);
  assert.throws(() => createDiceRoll({ rollId, spec, participants: [], startedAt: 0 }), TypeError);
  assert.throws(() => createDiceRoll({ rollId, spec, participants: ['a'] }), TypeError);
  assert.match(newRollId(), /^[0-9a-f]{32}$/);
  assert.notEqual(newRollId(), newRollId());
  assert.equal(fromHex('abc', 2), null);
  assert.equal(toHex(fromHex('00ff', 2)), '00ff');
  // The helpers compose as documented.
  const nonce = new Uint8Array(32);
  const contribution = new Uint8Array(32).fill(1);
  const commitment = await commitmentOf({ rollId, participant: 'solo', spec, nonce, contribution });
  const set = await commitSetHash({ rollId, spec, commitments: { solo: commitment } });
  const seed = await rollSeed({ commitSet: set, contributions: { solo: toHex(contribution) } });
  assert.equal(seed.length, 32);
  for (const code of Object.values(DiceError)) assert.ok(`chat.dice.error.${code}` in en, code);
});

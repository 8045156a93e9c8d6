// Every reason the call logic can put in the store has words in every language: the call view
// shows `call.outcome.<endReason>` ("Call ended: …"), the call log and the conversation line
// show `call.outcome.<outcome>` / `call.log.<outcome>`, the security indicator and the consent
// prompt show `call.security.reason.<reason>`. A missing key falls back to the raw code
// ("Call ended: no_relay"), so the reasons are collected from the sources themselves: a new
// reason added to web/src/calls/ without a text makes this test fail.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';

const callsDir = fileURLToPath(new URL('../src/calls/', import.meta.url));
const sources = Object.fromEntries(readdirSync(callsDir).filter((name) => name.endsWith('.js'))
  .map((name) => [name, readFileSync(`${callsDir}${name}`, 'utf8')]));
const controller = sources['call-controller.js'];
const catalogues = { en, fr };

const literals = (text, pattern) => [...text.matchAll(pattern)].map((match) => match[1]);

/** The argument list of every `finish(call, …)` call (not the definition), as written. */
function finishCalls() {
  const calls = [];
  for (const match of controller.matchAll(/(?<!function )\bfinish\(/g)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < controller.length) {
      const c = controller[end++];
      if (c === '(') depth += 1;
      else if (c === ')') depth -= 1;
    }
    calls.push(controller.slice(match.index + match[0].length, end - 1));
  }
  return calls;
}

/** The `kind: 'hangup'` reasons a peer may send (call-signal.js), seen here as `peer_<reason>`. */
function peerHangupReasons() {
  const line = sources['call-signal.js'].split('\n').find((text) => /^\s*hangup:\s*\{\s*reason:/.test(text));
  assert.ok(line, 'call-signal.js has no hangup reason rule');
  return literals(line, /=== '([^']+)'/g);
}

/** Every end reason and outcome the controller (and what it calls) can store. */
function endReasons() {
  const outcomes = new Set();
  const reasons = new Set();
  const calls = finishCalls();
  assert.ok(calls.length >= 10, `only ${calls.length} finish() calls found: the collector is out of date`);
  for (const args of calls) {
    const [, outcome] = args.match(/^\s*\w+,\s*(.*)$/s) ?? [];
    const quoted = outcome?.match(/^'([^']+)'/);
    if (quoted) outcomes.add(quoted[1]);
    else {
      // Non-literal outcomes: each form is resolved here, an unknown one fails.
      for (const value of literals(outcome ?? '', /'([^']+)'/g)) outcomes.add(value);
      assert.ok(/^(error\.code ===|parsed\.reason ===)/.test(outcome ?? ''), `finish(${args}): outcome not recognised`);
    }
    // `reason: X` outside `send: {…}` is the end reason.
    const options = args.replace(/send:\s*\{[^}]*\}/g, '');
    for (const [, expression] of options.matchAll(/\breason:\s*('[^']*'|`[^`]*`|[^,}\s]+)/g)) {
      const value = expression.trim();
      if (/^'[^']+'$/.test(value)) reasons.add(value.slice(1, -1));
      else if (value === '`peer_${parsed.reason}`') for (const peer of peerHangupReasons()) reasons.add(`peer_${peer}`);
      else if (value === 'error.code') for (const code of literals(sources['call-channel.js'], /\b(?:failure|done)\('([^']+)'\)/g)) reasons.add(code);
      else assert.fail(`finish(${args}): end reason ${value} not recognised`);
    }
    if (/\breason\s*\}/.test(options)) {
      // onFail(reason): what the monitor reports (timers armed with a reason, direct onFail calls).
      const monitor = sources['call-monitor.js'];
      for (const value of [...literals(monitor, /\barm\([^,]+,\s*'([^']+)'\)/g), ...literals(monitor, /\bonFail\('([^']+)'\)/g)]) reasons.add(value);
    }
  }
  return { outcomes, reasons };
}

test('the collector finds the reasons known today (it is not vacuous)', () => {
  const { outcomes, reasons } = endReasons();
  for (const outcome of ['answered', 'declined', 'busy', 'no-answer', 'cancelled', 'missed', 'offline', 'channel-ended', 'failed']) {
    assert.ok(outcomes.has(outcome), `outcome ${outcome} not collected`);
  }
  for (const reason of ['no_relay', 'no_media', 'signal_flood', 'connect_timeout', 'ice_failed', 'fingerprint_mismatch', 'peer_normal', 'peer_failed', 'stopped', 'timeout']) {
    assert.ok(reasons.has(reason), `end reason ${reason} not collected`);
  }
});

for (const language of ['en', 'fr']) {
  test(`${language}: every end reason and outcome the call logic can set has a text`, () => {
    const { outcomes, reasons } = endReasons();
    const catalogue = catalogues[language];
    const missing = [...new Set([...outcomes, ...reasons])].filter((reason) => !(`call.outcome.${reason}` in catalogue));
    assert.deepEqual(missing, [], `call.outcome.* missing in ${language}.js`);
    const missingLog = [...outcomes].filter((outcome) => !(`call.log.${outcome}` in catalogue));
    assert.deepEqual(missingLog, [], `call.log.* missing in ${language}.js`);
  });

  test(`${language}: every security and consent reason the call logic can set has a text`, () => {
    const reasons = new Set([
      ...literals(sources['call-security.js'], /\breason:\s*'([^']+)'/g),
      ...literals(controller, /\baskConsent\(call,\s*(?:[^'()]*\?\s*)?'([^']+)'/g),
      ...literals(controller, /\baskConsent\(call,[^)]*:\s*'([^']+)'\)/g),
    ]);
    for (const known of ['e2ee_off', 'fingerprint_mismatch', 'no_transform', 'peer_no_transform']) assert.ok(reasons.has(known), `${known} not collected`);
    // 'unproven' is the indicator's own reason for a bare 'encrypted' without the facts.
    reasons.add('unproven');
    const catalogue = catalogues[language];
    const missing = [...reasons].filter((reason) => !(`call.security.reason.${reason}` in catalogue));
    assert.deepEqual(missing, [], `call.security.reason.* missing in ${language}.js`);
  });
}

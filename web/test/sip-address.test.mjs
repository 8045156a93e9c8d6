// The phone's address field: completion of bare numbers and names with the user's domain, and
// the refusal (with a reason) of what is not a SIP address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sipAddressOf } from '../src/sip/sip-address.js';

test('a bare number or name is completed with the user\'s domain', () => {
  assert.equal(sipAddressOf('1000', 'localhost').uri, 'sip:1000@localhost');
  assert.equal(sipAddressOf('  bob ', 'example.org').uri, 'sip:bob@example.org');
  assert.equal(sipAddressOf('+33 1 23-45 (6)', 'example.org').uri, 'sip:+33123456@example.org');
  assert.equal(sipAddressOf('*97#', 'example.org').uri, 'sip:*97%23@example.org', '# is escaped in a user part');
  assert.equal(sipAddressOf('tel:+331234', 'example.org').uri, 'sip:+331234@example.org');
});

test('full addresses are kept, the host lower-cased', () => {
  assert.equal(sipAddressOf('sip:bob@Example.COM', 'localhost').uri, 'sip:bob@example.com');
  assert.equal(sipAddressOf('bob@pbx.example.com:5070', 'localhost').uri, 'sip:bob@pbx.example.com:5070');
  assert.equal(sipAddressOf('sips:alice@[::1]:5061;transport=tls', 'localhost').uri, 'sips:alice@[::1]:5061;transport=tls');
  assert.equal(sipAddressOf('SIP:carol@10.0.0.7', 'localhost').uri, 'sip:carol@10.0.0.7');
});

test('what is not an address is refused with the reason', () => {
  const cases = [
    ['', 'empty'], ['   ', 'empty'], ['x'.repeat(300), 'too_long'],
    ['https://example.com', 'scheme'], ['mailto:bob@example.com', 'scheme'],
    ['b ob', 'user'], ['<bob>@example.com', 'user'], ['@example.com', 'user'],
    ['bob@', 'host'], ['bob@exa mple.com', 'host'], ['bob@-bad-.com', 'host'],
    ['bob@example.com:0', 'port'], ['bob@example.com:70000', 'port'], ['bob@example.com:', 'port'],
  ];
  for (const [input, error] of cases) assert.deepEqual(sipAddressOf(input, 'localhost'), { error }, JSON.stringify(input));
  assert.deepEqual(sipAddressOf('bob', ''), { error: 'no_domain' }, 'no domain known yet: a bare name cannot be completed');
});

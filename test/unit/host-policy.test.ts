import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostPolicy } from '../../src/inbound/host-policy.js';
import { globToRegExp } from '../../src/net/glob.js';

test('globs: * spans labels, ? one character, anchored and case-insensitive', () => {
  assert.ok(globToRegExp('*.example.com').test('a.b.example.com'));
  assert.ok(!globToRegExp('*.example.com').test('example.com'));
  assert.ok(!globToRegExp('*.example.com').test('example.com.evil.test'));
  assert.ok(globToRegExp('api?.test').test('API1.test'));
  assert.ok(!globToRegExp('a.test').test('aXtest'), 'dots are literal');
});

test('everything is intercepted by default', () => {
  assert.equal(createHostPolicy({ passthrough: [], intercept: [] })('any.test').action, 'intercept');
});

test('passthrough globs tunnel, and win over intercept globs', () => {
  const decide = createHostPolicy({ passthrough: ['*.bank.test'], intercept: ['*.test'] });
  assert.deepEqual(decide('www.bank.test'), { action: 'tunnel', reason: '--passthrough *.bank.test' });
  assert.equal(decide('shop.test').action, 'intercept');
  assert.deepEqual(decide('example.com'), { action: 'tunnel', reason: 'no --intercept glob matches' });
});

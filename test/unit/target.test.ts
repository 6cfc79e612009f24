import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAuthority, normalizeHost, parseAuthority } from '../../src/net/target.js';

test('host names are lower-cased and lose a trailing dot', () => {
  assert.equal(normalizeHost('Example.COM.'), 'example.com');
  assert.equal(normalizeHost('_dmarc.example.com'), '_dmarc.example.com');
});

test('IP literals pass, IPv6 without brackets', () => {
  assert.equal(normalizeHost('127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeHost('[::1]'), '::1');
});

test('names with path characters, control bytes, spaces or bad lengths are refused', () => {
  for (const bad of [
    '',
    'a/b',
    'a\\b',
    'x\u0000y',
    'a b',
    '..',
    'a..b',
    '-a.com',
    'a-.com',
    'a'.repeat(64),
    `${'a.'.repeat(127)}ab`,
    'ex%61mple.com',
    'fe80::1%eth0',
  ]) {
    assert.throws(() => normalizeHost(bad), { code: 'host_invalid' }, JSON.stringify(bad));
  }
});

test('CONNECT authorities need a valid port', () => {
  assert.deepEqual(parseAuthority('Example.com:443'), { host: 'example.com', port: 443 });
  assert.deepEqual(parseAuthority('[::1]:8443'), { host: '::1', port: 8443 });
  for (const bad of ['example.com', 'example.com:0', 'example.com:65536', 'example.com:x', '::1:443', 'a:1:2']) {
    assert.throws(() => parseAuthority(bad), { code: 'host_invalid' }, bad);
  }
  assert.deepEqual(parseAuthority('example.com', 80), { host: 'example.com', port: 80 });
});

test('authorities format with brackets and optional default ports', () => {
  assert.equal(formatAuthority({ host: '::1', port: 443 }), '[::1]:443');
  assert.equal(formatAuthority({ host: '::1', port: 443 }, 443), '[::1]');
  assert.equal(formatAuthority({ host: 'a.test', port: 8080 }, 80), 'a.test:8080');
});

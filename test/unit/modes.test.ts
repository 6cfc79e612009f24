import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeMode, parseMode } from '../../src/config/modes.js';
import { isMitmError } from '../../src/errors.js';

test('regular, with or without an address', () => {
  assert.deepEqual(parseMode('regular'), { kind: 'regular', listen: undefined });
  assert.deepEqual(parseMode('regular@8080'), { kind: 'regular', listen: { host: undefined, port: 8080 } });
  assert.deepEqual(parseMode('regular@0.0.0.0:8080'), { kind: 'regular', listen: { host: '0.0.0.0', port: 8080 } });
  assert.deepEqual(parseMode('regular@[::1]:8080'), { kind: 'regular', listen: { host: '::1', port: 8080 } });
});

test('transparent: port, host and the origin port (default 443)', () => {
  assert.deepEqual(parseMode('transparent@8443'), { kind: 'transparent', listen: { host: undefined, port: 8443 }, originPort: 443 });
  assert.deepEqual(parseMode('transparent@8443:8444'), { kind: 'transparent', listen: { host: undefined, port: 8443 }, originPort: 8444 });
  assert.deepEqual(parseMode('transparent@127.0.0.2:8443:443'), {
    kind: 'transparent',
    listen: { host: '127.0.0.2', port: 8443 },
    originPort: 443,
  });
  assert.deepEqual(parseMode('transparent@localhost:8443'), {
    kind: 'transparent',
    listen: { host: 'localhost', port: 8443 },
    originPort: 443,
  });
});

test('reverse: the origin URL before @, its default port by scheme', () => {
  assert.deepEqual(parseMode('reverse:https://api.example.com@8443'), {
    kind: 'reverse',
    listen: { host: undefined, port: 8443 },
    origin: { secure: true, host: 'api.example.com', port: 443 },
  });
  const plain = parseMode('reverse:http://127.0.0.1:3000/@127.0.0.1:9000');
  assert.deepEqual(plain, {
    kind: 'reverse',
    listen: { host: '127.0.0.1', port: 9000 },
    origin: { secure: false, host: '127.0.0.1', port: 3000 },
  });
  assert.equal(describeMode(plain), 'reverse:http://127.0.0.1:3000');
});

test('dns needs a port', () => {
  assert.deepEqual(parseMode('dns@5353'), { kind: 'dns', listen: { host: undefined, port: 5353 } });
});

test('every malformed value is config_invalid, naming the value and the bad part', () => {
  const cases: Array<[string, RegExp]> = [
    ['socks@1080', /unknown mode "socks"/],
    ['transparent', /transparent needs a port/],
    ['dns', /dns needs a port/],
    ['dns@53:54', /expected \[HOST:\]PORT after @/],
    ['regular@70000', /"70000" is not a port/],
    ['transparent@host:1:2:3', /expected \[HOST:\]PORT\[:ORIGINPORT\]/],
    ['reverse@8443', /reverse needs the origin URL/],
    ['reverse:ftp://x@8443', /must be http:\/\/ or https:\/\//],
    ['reverse:https://x/path@8443', /scheme, host and port only/],
    ['regular:x@8080', /regular takes no argument/],
    ['regular@bad host:80', /"bad host" is not a host name/],
    ['regular@[nope]:80', /"nope" is not an IPv6 address/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseMode(value),
      (error: unknown) =>
        isMitmError(error) &&
        error.code === 'config_invalid' &&
        error.message.includes(JSON.stringify(value)) &&
        message.test(error.message),
      value,
    );
  }
});

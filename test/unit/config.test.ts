import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyOptions, redactSecrets } from '../../src/config/load.js';
import { defaultCaDir } from '../../src/config/schema.js';

test('defaults are filled in and the result is frozen', () => {
  const config = parseProxyOptions({});
  assert.equal(config.host, '127.0.0.1', 'listens on loopback unless told otherwise');
  assert.equal(config.port, 8080);
  assert.equal(config.insecure, false, 'origins are verified by default');
  assert.equal(config.ca, defaultCaDir(), 'the per-user CA folder, not one relative to the working directory');
  assert.deepEqual(config.passthrough, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.passthrough));
});

test('bad values and unknown options are config_invalid errors naming the option', () => {
  assert.throws(
    () => parseProxyOptions({ port: 70000 }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'config_invalid');
      assert.match(error.message, /port/);
      return true;
    },
  );
  assert.throws(() => parseProxyOptions({ prot: 1 }), /unknown option prot/);
  assert.throws(
    () => parseProxyOptions({ passthrough: 5 }),
    /invalid options: passthrough must be a list of strings \(or one string\), got number$/,
  );
  assert.throws(() => parseProxyOptions({ port: 70000 }), /invalid options: port must be 0–65535, got 70000$/);
});

test('bounds are stated as a person would, and what zod words itself stays in English', () => {
  // Integer bounds: positive is "at least 1", an exclusive and an inclusive bound make a range.
  assert.throws(() => parseProxyOptions({ upstreamTimeout: 0 }), /invalid options: upstreamTimeout must be at least 1, got 0$/);
  assert.throws(() => parseProxyOptions({ breakTimeout: 0 }), /invalid options: breakTimeout must be 1–86400000, got 0$/);
  assert.throws(() => parseProxyOptions({ maxHeaderSize: 5 }), /invalid options: maxHeaderSize must be at least 1024, got 5$/);
  // The options are built on zod/mini, which loads no locale: its own messages must not fall back
  // to "Invalid input" where zod has English words (a size below 0 fails the number branch).
  assert.throws(() => parseProxyOptions({ storeBodyLimit: -5 }), /invalid options: storeBodyLimit: Too small: expected number to be >=0$/);
  assert.throws(
    () => parseProxyOptions({ storeBodyLimit: '8q' }),
    /invalid options: storeBodyLimit: expected a size such as 65536, 512k, 8m or 2g$/,
  );
});

test('a list option accepts a single string', () => {
  assert.deepEqual(parseProxyOptions({ upstreamCa: './ca.pem', passthrough: 'a.test' }).upstreamCa, ['./ca.pem']);
  assert.deepEqual(parseProxyOptions({ passthrough: 'a.test' }).passthrough, ['a.test']);
});

test('redactSecrets masks every password and the passphrase, and nothing else', () => {
  const config = parseProxyOptions({
    proxyAuth: ['alice:wonder:land', 'bob:'],
    upstreamProxy: 'http://carol:s%40cret@127.0.0.1:3128',
    clientCertPassphrase: 'p12-secret',
    port: 9000,
  });
  const shown = redactSecrets(config);
  assert.deepEqual(shown.proxyAuth, ['alice:***', 'bob:***']);
  assert.equal(shown.upstreamProxy, 'http://carol:***@127.0.0.1:3128');
  assert.equal(shown.clientCertPassphrase, '***');
  assert.equal(shown.port, 9000);
  assert.ok(Object.isFrozen(shown) && Object.isFrozen(shown.proxyAuth));
  for (const secret of ['wonder', 's%40cret', 'p12-secret']) assert.ok(!JSON.stringify(shown).includes(secret), secret);
  // A URL without a password, and no passphrase, stay as given.
  const plain = redactSecrets(parseProxyOptions({ upstreamProxy: 'socks5://dave@127.0.0.1:1080' }));
  assert.equal(plain.upstreamProxy, 'socks5://dave@127.0.0.1:1080');
  assert.equal(plain.clientCertPassphrase, undefined);
});

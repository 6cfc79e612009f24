import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyOptions } from '../../src/config/load.js';

test('defaults are filled in and the result is frozen', () => {
  const config = parseProxyOptions({});
  assert.equal(config.host, '127.0.0.1', 'listens on loopback unless told otherwise');
  assert.equal(config.port, 8080);
  assert.equal(config.insecure, false, 'origins are verified by default');
  assert.equal(config.ca, './certs');
  assert.deepEqual(config.passthrough, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.passthrough));
});

test('bad values and unknown options are config_invalid errors naming the option', () => {
  assert.throws(() => parseProxyOptions({ port: 70000 }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'config_invalid');
    assert.match(error.message, /port/);
    return true;
  });
  assert.throws(() => parseProxyOptions({ prot: 1 }), /unknown option prot/);
  assert.throws(() => parseProxyOptions({ passthrough: 'a.test' }), /passthrough/);
});

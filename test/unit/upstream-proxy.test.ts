import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyOptions } from '../../src/config/load.js';
import { isMitmError } from '../../src/errors.js';
import { basicCredentials, createBypass, parseUpstreamProxy } from '../../src/config/upstream-proxy.js';

test('parses upstream proxy URLs: scheme, host, default ports and decoded credentials', () => {
  assert.deepEqual(parseUpstreamProxy('http://127.0.0.1:3128'), {
    protocol: 'http',
    host: '127.0.0.1',
    port: 3128,
    credentials: undefined,
    label: '127.0.0.1:3128',
  });
  const secure = parseUpstreamProxy('https://u%40corp:p%3Ass@Proxy.Example/');
  assert.equal(secure.port, 443);
  assert.equal(secure.host, 'proxy.example');
  assert.deepEqual(secure.credentials, { user: 'u@corp', password: 'p:ss' });
  assert.equal(secure.label, 'proxy.example:443');
  assert.equal(parseUpstreamProxy('socks5://[::1]').label, '[::1]:1080');
  assert.equal(parseUpstreamProxy('socks5h://s:1').protocol, 'socks5h');
  assert.equal(basicCredentials({ user: 'up', password: 'secret' }), `Basic ${Buffer.from('up:secret').toString('base64')}`);
});

test('refuses bad upstream proxy URLs with config_invalid, never echoing a password', () => {
  for (const bad of ['127.0.0.1:3128', 'ftp://x:1', 'socks4://x:1', 'http://x:1/path', 'http://u:hunter2@x:1/?q']) {
    assert.throws(
      () => parseProxyOptions({ upstreamProxy: bad }),
      (error: unknown) =>
        isMitmError(error) && error.code === 'config_invalid' && /upstreamProxy/.test(error.message) && !error.message.includes('hunter2'),
      bad,
    );
  }
});

test('bypass lists match NO_PROXY style: names with subdomains, globs, IPs, CIDRs, ports, *', () => {
  const bypass = createBypass('example.com, .corp.test *.internal  10.0.0.0/8,fd00::/8, 192.0.2.7, api.test:8443, [::1]:9000');
  const yes = [
    ['example.com', 443],
    ['www.example.com', 80],
    ['a.corp.test', 1],
    ['corp.test', 1],
    ['db.internal', 5432],
    ['10.1.2.3', 80],
    ['fd00::5', 80],
    ['192.0.2.7', 80],
    ['api.test', 8443],
    ['::1', 9000],
  ] as const;
  const no = [
    ['notexample.com', 443],
    ['internal', 1],
    ['11.0.0.1', 80],
    ['fe80::1', 80],
    ['192.0.2.8', 80],
    ['api.test', 443],
    ['::1', 9001],
  ] as const;
  for (const [host, port] of yes) assert.equal(bypass({ host, port }), true, `${host}:${port}`);
  for (const [host, port] of no) assert.equal(bypass({ host, port }), false, `${host}:${port}`);
  assert.equal(createBypass('*')({ host: 'anything.test', port: 1 }), true);
  assert.equal(createBypass(undefined)({ host: 'anything.test', port: 1 }), false);
  assert.equal(createBypass('')({ host: 'anything.test', port: 1 }), false);
});

test('a bypass list with an impossible entry is refused at start', () => {
  for (const bad of ['10.0.0.0/33', 'host/8', '.']) {
    assert.throws(
      () => parseProxyOptions({ upstreamBypass: bad }),
      (error: unknown) => isMitmError(error) && /upstreamBypass/.test(error.message),
      bad,
    );
  }
});

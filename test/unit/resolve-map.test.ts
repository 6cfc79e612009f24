import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyOptions } from '../../src/config/load.js';
import { createResolveMap } from '../../src/net/resolve-map.js';

test('--resolve maps exact names and globs to IP literals; exact names win, then the first glob', () => {
  const map = createResolveMap(['*.test=10.0.0.1', 'API.test.=127.0.0.1', 'v6.example=[::1]', '*.api.test=10.0.0.2', 'api.test=10.9.9.9']);
  assert.ok(map);
  assert.equal(map('api.test'), '127.0.0.1');
  assert.equal(map('API.TEST.'), '127.0.0.1');
  assert.equal(map('v2.api.test'), '10.0.0.1');
  assert.equal(map('v6.example'), '::1');
  assert.equal(map('test'), undefined);
  assert.equal(map('example.com'), undefined);
  assert.equal(createResolveMap([]), undefined);
});

test('a bad --resolve value is config_invalid naming the flag and the bad part', () => {
  const cases: ReadonlyArray<[string, RegExp]> = [
    ['api.test', /--resolve: "api\.test" is not NAME=ADDR/],
    ['api.test=localhost', /--resolve: the address "localhost" in "api\.test=localhost" is not an IPv4 or IPv6 address/],
    ['api.test=1.2.3', /the address "1\.2\.3"/],
    ['api.test=fe80::1%eth0', /the address "fe80::1%eth0"/],
    ['bad name!=127.0.0.1', /--resolve: the name "bad name!" in "bad name!=127\.0\.0\.1" is not a host name or glob/],
    ['=127.0.0.1', /the name ""/],
    ['*.te/st=127.0.0.1', /the name "\*\.te\/st"/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseProxyOptions({ resolve: [value] }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'config_invalid');
        assert.match(error.message, message);
        return true;
      },
      value,
    );
  }
  assert.deepEqual(parseProxyOptions({ resolve: ['api.test=127.0.0.1', '*.test=::1'] }).resolve, ['api.test=127.0.0.1', '*.test=::1']);
});

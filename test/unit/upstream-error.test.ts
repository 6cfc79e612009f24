import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MitmError } from '../../src/errors.js';
import { classifyUpstreamError } from '../../src/origin/upstream-error.js';

function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

test('each origin failure maps to its code, status and a message naming the origin', () => {
  const cases: Array<[Error, string, number, RegExp]> = [
    [errno('ECONNREFUSED'), 'upstream_refused', 502, /connection refused by a\.test:443/],
    [errno('ENOTFOUND'), 'upstream_dns', 502, /a\.test:443/],
    [errno('EHOSTUNREACH'), 'upstream_unreachable', 502, /a\.test:443 is unreachable/],
    [errno('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'upstream_tls_verify', 502,
      /^upstream certificate verification failed for a\.test:443: self-signed certificate$/],
    [errno('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'upstream_tls_verify', 502, /altnames/],
    [errno('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'upstream_tls', 502, /TLS handshake with a\.test:443 failed/],
    [errno('ECONNRESET', 'socket hang up'), 'upstream_reset', 502, /a\.test:443 closed the connection/],
    [errno('ETIMEDOUT'), 'upstream_timeout', 504, /a\.test:443/],
  ];
  for (const [error, code, status, message] of cases) {
    const mapped = classifyUpstreamError(error, 'a.test:443');
    assert.equal(mapped.code, code, error.message);
    assert.equal(mapped.status, status);
    assert.match(mapped.message, message);
    assert.equal(mapped.cause, error);
  }
});

test('a MitmError passes through unchanged', () => {
  const timeout = new MitmError('upstream_timeout', 'x');
  assert.equal(classifyUpstreamError(timeout, 'a.test:443'), timeout);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAutoPassthrough } from '../../src/cli/output/flow-log.js';
import { handshakeRejection, PinnedClients } from '../../src/tls/pinned-clients.js';

const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

test('certificate alerts and hang-ups count as a rejection; network and protocol failures do not', () => {
  assert.equal(handshakeRejection(withCode('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')), 'unknown_ca');
  assert.equal(handshakeRejection(withCode('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')), 'bad_certificate');
  assert.equal(handshakeRejection(withCode('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN')), 'certificate_unknown');
  assert.equal(handshakeRejection(withCode('ECONNRESET')), 'reset the connection during the handshake');
  assert.equal(
    handshakeRejection(new Error('the client closed the connection during the TLS handshake')),
    'closed the connection during the handshake',
  );
  for (const code of [
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'host_invalid',
  ]) {
    assert.equal(handshakeRejection(withCode(code)), undefined, code);
  }
  assert.equal(handshakeRejection(new Error('something else')), undefined);
});

test('remembers a client→host pair once, per client address and port of the target', () => {
  const pinned = new PinnedClients({ max: 2, ttlMs: 60_000 });
  const target = { host: 'example.com', port: 443 };
  const until = pinned.remember('10.0.0.1', target, 'unknown_ca');
  assert.ok(until !== undefined && until > Date.now());
  assert.equal(pinned.remember('10.0.0.1', target, 'unknown_ca'), undefined, 'already known: no second event');
  assert.equal(pinned.reasonFor('10.0.0.1', target), 'unknown_ca');
  assert.equal(pinned.reasonFor('10.0.0.2', target), undefined);
  assert.equal(pinned.reasonFor('10.0.0.1', { host: 'example.com', port: 8443 }), undefined);
  // Bounded: the least recently used pair goes first.
  pinned.remember('10.0.0.1', { host: 'b.test', port: 443 }, 'bad_certificate');
  pinned.remember('10.0.0.1', { host: 'c.test', port: 443 }, 'bad_certificate');
  assert.equal(pinned.reasonFor('10.0.0.1', target), undefined);
  // At shutdown the proxy closes connections itself: nothing is learnt from that.
  pinned.stop();
  assert.equal(pinned.remember('10.0.0.9', target, 'closed the connection during the handshake'), undefined);
  assert.equal(pinned.reasonFor('10.0.0.9', target), undefined);
});

test('mitm start prints one line per host', () => {
  const client = { address: '127.0.0.1', port: 5000 };
  assert.equal(
    formatAutoPassthrough({ host: 'example.com', port: 443, client, reason: 'unknown_ca', until: 0 }),
    'example.com:443: the client rejected our certificate (unknown_ca); tunnelling it untouched from now on',
  );
  assert.equal(
    formatAutoPassthrough({ host: '::1', port: 443, client, reason: 'closed the connection during the handshake', until: 0 }),
    '[::1]:443: the client closed the connection during the handshake; tunnelling it untouched from now on',
  );
});

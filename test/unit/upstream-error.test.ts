// classifyUpstreamError against failures provoked for real on 127.0.0.1: refused ports, untrusted,
// misnamed and TLS-less origins, resets, timeouts. Each case checks that the intended failure
// happened (Node's error code), then the code, status and one-line message the client would read.
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import http from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import type { MitmError } from '../../src/errors.js';
import { createDialer } from '../../src/origin/dial.js';
import { createOriginConnector } from '../../src/origin/origin-agents.js';
import { OriginHandshakes } from '../../src/origin/origin-handshake.js';
import { classifyUpstreamError } from '../../src/origin/upstream-error.js';
import { within } from '../helpers/deadline.js';
import { listenLocal, refusedPort, type Listening } from '../helpers/listen.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startSilentServer, type SilentServer } from '../helpers/silent-server.js';

const DEADLINE_MS = 5_000;
const TRUST_FIX = " — trust the origin's CA with --upstream-ca FILE, or use --insecure";

/** The first error `emitter` fails with; rejects when it closes without one or nothing happens in time. */
function failureOf(emitter: EventEmitter & { destroy(): void }): Promise<Error> {
  const failed = new Promise<Error>((resolve, reject) => {
    emitter.once('error', resolve);
    emitter.once('close', () => reject(new Error('it closed without an error')));
  });
  return within(failed, 'the failure', DEADLINE_MS).finally(() => emitter.destroy());
}

/** The error a verifying TLS client meets at 127.0.0.1:`port` (SNI localhost, Node's default roots unless `options` says otherwise). */
function tlsFailure(port: number, options: ConnectionOptions = {}): Promise<Error> {
  return failureOf(tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }));
}

/** Asserts that `error` is the failure meant (`errno`) and that, for localhost:`port`, it classifies as `code` with `message`. */
function assertClassified(error: Error, errno: string, port: number, code: string, status: number, message: string): MitmError {
  assert.equal((error as NodeJS.ErrnoException).code, errno, `provoked ${error.message}`);
  const mapped = classifyUpstreamError(error, `localhost:${port}`);
  assert.equal(mapped.code, code);
  assert.equal(mapped.status, status);
  assert.equal(mapped.message, message);
  assert.equal(mapped.cause, error);
  return mapped;
}

describe('classifyUpstreamError on real failures', { timeout: 30_000 }, () => {
  let pki: TestPki;
  const servers: Listening[] = [];
  /** Starts `server` on 127.0.0.1 and keeps it for `after`. */
  const listen = async (server: Server): Promise<number> => {
    const listening = await listenLocal(server);
    servers.push(listening);
    return listening.port;
  };

  before(async () => {
    pki = await createTestPki();
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await pki?.cleanup();
  });

  it('a closed port: upstream_refused', async () => {
    const port = await refusedPort();
    const error = await failureOf(netConnect(port, '127.0.0.1'));
    assertClassified(error, 'ECONNREFUSED', port, 'upstream_refused', 502, `connection refused by localhost:${port}`);
  });

  it('a self-signed origin: upstream_tls_verify, with how to trust it', async () => {
    const port = await listen(createTlsServer({ cert: pki.selfSigned.cert, key: pki.selfSigned.key }));
    const error = await tlsFailure(port);
    assertClassified(
      error,
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      port,
      'upstream_tls_verify',
      502,
      `upstream certificate verification failed for localhost:${port}: self-signed certificate${TRUST_FIX}`,
    );
  });

  it('an origin whose issuer nobody trusts: upstream_tls_verify, with how to trust it', async () => {
    const port = await listen(createTlsServer({ cert: pki.origin.cert, key: pki.origin.key }));
    const error = await tlsFailure(port);
    assertClassified(
      error,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      port,
      'upstream_tls_verify',
      502,
      `upstream certificate verification failed for localhost:${port}: unable to verify the first certificate${TRUST_FIX}`,
    );
  });

  it('a trusted certificate for another name: upstream_tls_verify, where only --insecure helps', async () => {
    const port = await listen(createTlsServer({ cert: pki.wrongName.cert, key: pki.wrongName.key }));
    const error = await tlsFailure(port, { ca: pki.ca.cert });
    assertClassified(
      error,
      'ERR_TLS_CERT_ALTNAME_INVALID',
      port,
      'upstream_tls_verify',
      502,
      `upstream certificate verification failed for localhost:${port}: ${error.message} — the certificate is for other names; use --insecure to accept it anyway`,
    );
    assert.match(error.message, /wrong-name\.test/);
  });

  it('TLS to an origin that speaks plain HTTP: upstream_tls', async () => {
    const port = await listen(http.createServer((_req, res) => res.end('plain')));
    const error = await tlsFailure(port);
    assert.match((error as NodeJS.ErrnoException).code ?? '', /^ERR_SSL_/, error.message);
    const mapped = classifyUpstreamError(error, `localhost:${port}`);
    assert.equal(mapped.code, 'upstream_tls');
    assert.equal(
      mapped.message,
      `TLS handshake with localhost:${port} failed: wrong version number — the origin does not speak TLS on this port (plain HTTP? then use an http:// URL)`,
    );
  });

  it('an origin that wants a client certificate (TLS 1.3): upstream_tls naming --client-cert', async () => {
    const port = await listen(
      createTlsServer({ cert: pki.origin.cert, key: pki.origin.key, requestCert: true, rejectUnauthorized: true, ca: pki.ca.cert }),
    );
    const error = await tlsFailure(port, { ca: pki.ca.cert, minVersion: 'TLSv1.3' });
    assertClassified(
      error,
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      port,
      'upstream_tls',
      502,
      `TLS handshake with localhost:${port} failed: it requires a client certificate (give one with --client-cert)`,
    );
  });

  it('an origin that resets the connection: upstream_reset', async () => {
    const port = await listen(createNetServer((socket) => socket.resetAndDestroy()));
    const error = await tlsFailure(port);
    assertClassified(
      error,
      'ECONNRESET',
      port,
      'upstream_reset',
      502,
      `localhost:${port} closed the connection before answering (ECONNRESET)`,
    );

    // HTTP/1.1: the origin reads the request and drops the connection without a word.
    const silentPort = await listen(http.createServer((req) => req.socket.destroy()));
    const hangUp = await failureOf(http.request({ host: '127.0.0.1', port: silentPort, agent: false }).end());
    assertClassified(
      hangUp,
      'ECONNRESET',
      silentPort,
      'upstream_reset',
      502,
      `localhost:${silentPort} closed the connection before answering (ECONNRESET)`,
    );
  });

  it('an origin that answers with a head llhttp refuses (bare LF): upstream_reset saying what was wrong', async () => {
    const port = await listen(
      createNetServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'))),
    );
    const error = await failureOf(http.request({ host: '127.0.0.1', port, agent: false }).end());
    assertClassified(
      error,
      'HPE_CR_EXPECTED',
      port,
      'upstream_reset',
      502,
      `localhost:${port} sent a response that is not valid HTTP/1.1 (Missing expected CR after response line)`,
    );
  });

  describe('timeouts (the proxy keeps the clock; no errno on loopback)', () => {
    let silent: SilentServer;

    before(async () => {
      silent = await startSilentServer();
    });

    after(async () => {
      await silent?.close();
    });

    it('a TLS handshake the origin never answers: upstream_timeout', async () => {
      const dialer = createDialer({}, () => createSecureContext());
      const connector = createOriginConnector({ dialer, contexts: () => createSecureContext(), insecure: false, timeoutMs: 200 });
      const handshakes = new OriginHandshakes(connector, 200, new AbortController().signal);
      const error = await within(
        handshakes.open({ host: '127.0.0.1', port: silent.port, secure: true, servername: 'localhost' }, ['http/1.1']).then(
          () => assert.fail('the handshake completed'),
          (reason: unknown) => reason,
        ),
        'the handshake timeout',
        DEADLINE_MS,
      );
      const mapped = classifyUpstreamError(error, `localhost:${silent.port}`);
      assert.equal(mapped, error, 'a MitmError passes through unchanged');
      assert.equal(mapped.code, 'upstream_timeout');
      assert.equal(mapped.status, 504);
      assert.equal(mapped.message, `the TLS handshake with 127.0.0.1:${silent.port} took longer than 200 ms`);
      await within(silent.allClosed(), 'the timed-out connection to close', DEADLINE_MS);
    });

    it('an upstream proxy that never answers CONNECT: upstream_timeout naming both', async () => {
      const dialer = createDialer({ upstreamProxy: `http://127.0.0.1:${silent.port}` }, () => createSecureContext());
      const error = await within(
        dialer.dial({ host: 'localhost', port: 443 }, { timeoutMs: 200 }).then(
          () => assert.fail('the dial completed'),
          (reason: unknown) => reason,
        ),
        'the dial timeout',
        DEADLINE_MS,
      );
      const mapped = classifyUpstreamError(error, 'localhost:443');
      assert.equal(mapped.code, 'upstream_timeout');
      assert.equal(mapped.message, `connecting to localhost:443 through upstream proxy 127.0.0.1:${silent.port} timed out after 200 ms`);
      await within(silent.allClosed(), 'the timed-out connection to close', DEADLINE_MS);
    });
  });
});

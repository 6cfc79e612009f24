import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { openTlsTunnel, openTunnel } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { startSilentServer } from '../helpers/silent-server.js';

// Well below the 30 s upstream timeout that would otherwise end a hanging handshake or dial.
const DEADLINE_MS = 5_000;

/** Sends one intercepted GET to `authority` through `proxy` and leaves it waiting; resolves to what ends it. */
async function startTlsRequest(proxy: TestProxy, authority: string): Promise<() => void> {
  const tls = await openTlsTunnel(proxy.port, authority, { ca: await readFile(proxy.caPath, 'utf8'), servername: 'localhost' });
  // close() tears this down too; the reset is expected.
  tls.on('error', () => undefined);
  tls.write(`GET / HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  return () => tls.destroy();
}

/**
 * Sends `CONNECT authority` through `proxy` and leaves it waiting: an intercepted CONNECT is answered
 * only once the origin is dialled (connect.ts), so this is the dial held up by a silent upstream proxy.
 */
async function startConnect(proxy: TestProxy, authority: string): Promise<() => void> {
  const req = request({
    host: '127.0.0.1',
    port: proxy.port,
    method: 'CONNECT',
    path: authority,
    headers: { host: authority },
    agent: false,
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

/** CONNECTs to `authority` (answered at once: hooks are installed) and starts a TLS handshake it never sees finish. */
async function startHandshake(proxy: TestProxy, authority: string): Promise<() => void> {
  const tunnel = await openTunnel(proxy.port, authority);
  // No SNI, at most TLS 1.2: the client the origin's names are sniffed for (intercept-tls.ts).
  const tls = tlsConnect({ socket: tunnel.socket, ca: await readFile(proxy.caPath, 'utf8'), servername: '', maxVersion: 'TLSv1.2' });
  tls.on('error', () => undefined);
  return () => tls.destroy();
}

/** Sends one plain-HTTP GET (absolute form) through `proxy` and leaves it waiting. */
async function startPlainRequest(proxy: TestProxy): Promise<() => void> {
  const req = request({ host: '127.0.0.1', port: proxy.port, path: 'http://localhost:9/', headers: { host: 'localhost:9' }, agent: false });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

// Issue #11: upstream.close() let origin handshakes (and dials) in flight run on, up to the upstream timeout.
describe('origin side: close() ends connections still being opened', { timeout: 60_000 }, () => {
  let pki: TestPki;

  before(async () => {
    pki = await createTestPki();
  });

  after(async () => {
    await pki?.cleanup();
  });

  const cases: ReadonlyArray<{
    name: string;
    upstream?: (port: number) => string;
    hooks?: boolean;
    /** Below a timeout of the proxy's own that would end the connection anyway (the sniff's 5 s). */
    closeWithinMs?: number;
    send: (proxy: TestProxy, port: number) => Promise<() => void>;
  }> = [
    { name: 'a TLS handshake with an origin that never answers', send: (proxy, port) => startTlsRequest(proxy, `localhost:${port}`) },
    // Through an upstream proxy the origin's port is never reached: any number will do.
    {
      name: 'a CONNECT to an upstream proxy that never answers',
      upstream: (port) => `http://127.0.0.1:${port}`,
      send: (proxy) => startConnect(proxy, 'localhost:9'),
    },
    {
      name: 'a SOCKS5 handshake (plain HTTP) with an upstream proxy that never answers',
      upstream: (port) => `socks5h://127.0.0.1:${port}`,
      send: startPlainRequest,
    },
    {
      name: 'a plain-HTTP request to an upstream proxy that never answers',
      upstream: (port) => `http://127.0.0.1:${port}`,
      send: startPlainRequest,
    },
    // With an onRequest hook the CONNECT is answered at once, and the certificate sniffer of an IP
    // literal dials on its own (cert-sniff.ts).
    {
      name: 'a certificate sniff through an upstream proxy that never answers',
      upstream: (port) => `http://127.0.0.1:${port}`,
      hooks: true,
      closeWithinMs: 2_000,
      send: (proxy) => startHandshake(proxy, '127.0.0.1:9'),
    },
  ];
  for (const { name, upstream, hooks, closeWithinMs = DEADLINE_MS, send } of cases) {
    it(`destroys ${name}`, async () => {
      const silent = await startSilentServer();
      const proxy = await startTestProxy(pki, {
        ...(upstream ? { upstreamProxy: upstream(silent.port) } : {}),
        ...(hooks ? { hooks: [{ name: 'observer', onRequest: () => undefined }] } : {}),
      });
      let stop: (() => void) | undefined;
      try {
        stop = await send(proxy, silent.port);
        await within(
          silent.connections.waitFor(() => true),
          'the proxy to open a connection',
          DEADLINE_MS,
        );
        await proxy.close();
        await within(
          silent.allClosed(),
          () => `the ${silent.connections.items.length} connection(s) to close after proxy.close()`,
          closeWithinMs,
        );
        assert.ok(silent.connections.items.length >= 1);
      } finally {
        stop?.();
        await proxy.close();
        await silent.close();
      }
    });
  }
});

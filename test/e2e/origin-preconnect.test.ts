import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { openTlsTunnel } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { deferred } from '../helpers/hook-proxy.js';
import { listenLocal } from '../helpers/listen.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { TestProxies } from '../helpers/proxy.js';

/** An HTTPS origin that says when its first TLS connection is up and counts its TCP connections. */
async function watchedOrigin(
  pki: TestPki,
): Promise<{ port: number; connected: Promise<void>; connections: () => number; close: () => Promise<void> }> {
  const server = createServer({ cert: pki.origin.cert, key: pki.origin.key }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 }).end('hello');
  });
  const connected = deferred();
  let connections = 0;
  // TCP connections, counted as they are accepted, before any TLS: a preconnect shows up at once.
  server.on('connection', () => {
    connections += 1;
  });
  server.on('secureConnection', () => connected.resolve());
  const { port, close } = await listenLocal(server);
  return { port, connected: connected.promise, connections: () => connections, close };
}

/** Sends one GET over an intercepted tunnel and resolves with the whole raw answer. */
async function getOver(tls: TLSSocket, authority: string): Promise<string> {
  tls.write(`GET /hello HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of tls) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

// A new host's origin connection opens while the client's TLS handshake runs, so the first request
// waits for one handshake instead of two in a row; never when hooks could block or re-target it.
describe('proxy: origin connection opened ahead of the first request', { timeout: 30_000 }, () => {
  let pki: TestPki;
  const proxies = new TestProxies();

  before(async () => {
    pki = await createTestPki();
  });

  after(async () => {
    await proxies.closeAll();
    await pki?.cleanup();
  });

  it('connects to the origin before any request, and the first request rides on that connection', async () => {
    const origin = await watchedOrigin(pki);
    try {
      const mitm = await proxies.start(pki);
      const tls = await openTlsTunnel(mitm.port, `localhost:${origin.port}`, { ca: mitm.caPem, servername: 'localhost' });
      // No request has been written yet: only the proxy's own preconnect can make this resolve.
      await within(origin.connected, 'the origin to accept the preconnected TLS connection');
      const answer = await within(getOver(tls, `localhost:${origin.port}`), 'the answer over the tunnel');
      assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nhello$/);
      assert.equal(origin.connections(), 1, 'the preconnected connection served the request');
    } finally {
      await origin.close();
    }
  });

  it('waits for the request when an onRequest hook could block or re-target it', async () => {
    const origin = await watchedOrigin(pki);
    try {
      // The known point: the hook sees the request only after the client's whole TLS handshake
      // and its request went through the proxy. A preconnect starts before that handshake (when
      // the CONNECT is accepted), so by now the origin would have counted its connection.
      const atRequest: number[] = [];
      const mitm = await proxies.start(pki, {
        hooks: [{ name: 'looks at requests', onRequest: () => void atRequest.push(origin.connections()) }],
      });
      const tls = await openTlsTunnel(mitm.port, `localhost:${origin.port}`, { ca: mitm.caPem, servername: 'localhost' });
      assert.match(await within(getOver(tls, `localhost:${origin.port}`), 'the answer over the tunnel'), /\r\n\r\nhello$/);
      assert.deepEqual(atRequest, [0], 'nothing reached the origin before its request was seen by the hook');
      assert.equal(origin.connections(), 1, 'the request opened exactly one origin connection');
    } finally {
      await origin.close();
    }
  });
});

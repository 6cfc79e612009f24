import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { openTlsTunnel, sendViaProxy } from '../helpers/client.js';
import { deferred } from '../helpers/hook-proxy.js';
import { listenLocal } from '../helpers/listen.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { TestProxies } from '../helpers/proxy.js';

/** An HTTPS origin that says when its first TLS connection is up and counts its TCP connections. */
async function watchedOrigin(pki: TestPki): Promise<{ port: number; connected: Promise<void>; connections: () => number; close: () => Promise<void> }> {
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
  /** A plain-HTTP origin for a whole exchange through the same proxy. */
  let other: Origin;
  const proxies = new TestProxies();

  before(async () => {
    pki = await createTestPki();
    other = await startOrigin();
  });

  after(async () => {
    await proxies.closeAll();
    await other?.close();
    await pki?.cleanup();
  });

  it('connects to the origin before any request, and the first request rides on that connection', async () => {
    const origin = await watchedOrigin(pki);
    try {
      const mitm = await proxies.start(pki);
      const tls = await openTlsTunnel(mitm.port, `localhost:${origin.port}`, { ca: await readFile(mitm.caPath, 'utf8'), servername: 'localhost' });
      // No request has been written yet: only the proxy's own preconnect can make this resolve.
      await origin.connected;
      const answer = await getOver(tls, `localhost:${origin.port}`);
      assert.match(answer, /^HTTP\/1\.1 200 [^]*\r\n\r\nhello$/);
      assert.equal(origin.connections(), 1, 'the preconnected connection served the request');
    } finally {
      await origin.close();
    }
  });

  it('waits for the request when an onRequest hook could block or re-target it', async () => {
    const origin = await watchedOrigin(pki);
    try {
      const mitm = await proxies.start(pki, { hooks: [{ name: 'looks at requests', onRequest: () => undefined }] });
      const tls = await openTlsTunnel(mitm.port, `localhost:${origin.port}`, { ca: await readFile(mitm.caPath, 'utf8'), servername: 'localhost' });
      // A whole exchange with another origin through the same proxy: time enough for a preconnect.
      const res = await sendViaProxy(mitm.port, `${other.url}/hello`);
      assert.equal(res.status, 200);
      assert.equal(origin.connections(), 0, 'nothing reached the origin before its request');
      assert.match(await getOver(tls, `localhost:${origin.port}`), /\r\n\r\nhello$/);
      assert.equal(origin.connections(), 1);
    } finally {
      await origin.close();
    }
  });
});

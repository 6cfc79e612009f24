// A body that breaks off mid-stream is recorded with the reason it broke off, not as a clean
// answer nor as an unexplained close: the origin cutting its body, a body that does not decode for
// an onServerSentEvent hook, a WebSocket refusal whose body is cut, an HTTP/2 client whose session
// fails while its request is in flight. Each test provokes the failure over real sockets.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import zlib from 'node:zlib';
import type { Flow, FlowRecord, MitmError } from '../../src/index.js';
import { connectRaw, openTunnel, sendViaProxy } from '../helpers/client.js';
import { startCustomOrigin } from '../helpers/custom-origin.js';
import { deferred } from '../helpers/hook-proxy.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { TestProxies, type TestProxy } from '../helpers/proxy.js';

// Every wait below has this deadline; the test's own timeout is the backstop.
const DEADLINE_MS = 10_000;
const TEST = { timeout: 30_000 };

let pki: TestPki;
const proxies = new TestProxies();
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  pki = await createTestPki();
});

after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await proxies.closeAll();
  await pki.cleanup();
});

/** The flow for `url` as the proxy kept it, and the record it emitted for it. */
async function ended(proxy: TestProxy, url: string): Promise<{ flow: Flow; record: FlowRecord }> {
  const flow = await proxy.proxy.waitForFlow((f) => f.request.url === url, { timeout: DEADLINE_MS });
  // The record is emitted before the flow is stored, so it is there by now.
  const record = proxy.flows.items.find((r) => r.id === flow.id);
  assert.ok(record, `no 'flow' event for flow ${flow.id}`);
  return { flow, record };
}

describe('stream errors reach the flow record', () => {
  it('names the origin as the one that broke a response body off', TEST, async () => {
    // Promises 4000 bytes, sends 1000, then drops the connection.
    const origin = await startCustomOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4000' });
      res.write('x'.repeat(1000), () => res.socket?.destroy());
    });
    cleanups.push(() => origin.close());
    const proxy = await proxies.start(pki);
    const url = `${origin.url}/cut`;
    await assert.rejects(sendViaProxy(proxy.port, url), 'the client sees the cut');
    const { flow, record } = await ended(proxy, url);
    assert.equal(record.status, 200);
    assert.equal(record.error?.code, 'aborted');
    assert.match(record.error.message, /^the origin broke off the response body: /);
    // The client did get a 200 head and part of the body: the flow keeps it (HAR status 200, _error aborted).
    assert.equal(flow.incomplete, true);
    assert.equal(flow.error, undefined);
  });

  it('records body_undecodable when an event stream an onServerSentEvent hook reads is corrupt gzip', TEST, async () => {
    // A valid gzip header, then bytes that are no deflate stream.
    const corrupt = Buffer.concat([
      zlib.gzipSync('data: first\n\n').subarray(0, 10),
      Buffer.from('\xff\xff not deflate data, not at all', 'latin1'),
    ]);
    const origin = await startCustomOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(corrupt);
    });
    cleanups.push(() => origin.close());
    const proxy = await proxies.start(pki);
    const seen = deferred<MitmError>();
    proxy.proxy.use({
      name: 'sse-reader',
      onServerSentEvent: () => undefined,
      onError: (_flow, error) => seen.resolve(error),
    });
    const url = `${origin.url}/events`;
    // The head went out before the body failed to decode: the client sees a cut-off stream.
    await sendViaProxy(proxy.port, url).catch(() => undefined);
    const { flow, record } = await ended(proxy, url);
    assert.equal(record.error?.code, 'body_undecodable');
    assert.match(record.error.message, /cannot decode the response body of GET .*\/events as gzip/);
    assert.equal(flow.error?.code, 'body_undecodable');
    assert.equal((await seen.promise).code, 'body_undecodable', 'the onError hooks saw it');
  });

  it('marks a WebSocket refusal whose body broke off as aborted', TEST, async () => {
    // No 'upgrade' listener: Node hands the upgrade request to this handler as a plain request.
    const origin = await startCustomOrigin((_req, res: ServerResponse) => {
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': '4000' });
      res.write('n'.repeat(1000), () => res.socket?.destroy());
    });
    cleanups.push(() => origin.close());
    const proxy = await proxies.start(pki);
    const url = `${origin.url}/ws`;
    const client = await connectRaw(proxy.port);
    client.on('error', () => undefined);
    const closed = once(client, 'close');
    client.resume();
    client.write(
      `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await closed;
    const { record } = await ended(proxy, url);
    assert.equal(record.status, 403);
    assert.equal(record.error?.code, 'aborted');
    assert.match(record.error.message, /^the response body broke off: /);
  });

  it("records the failure of an HTTP/2 client's session on the flows it had in flight", TEST, async () => {
    const arrived = deferred();
    const held: ServerResponse[] = [];
    const origin = await startCustomOrigin((_req, res) => {
      held.push(res);
      arrived.resolve();
    }, pki.origin);
    cleanups.push(() => origin.close());
    const proxy = await proxies.start(pki);
    const authority = `localhost:${origin.port}`;
    const tunnel = await openTunnel(proxy.port, authority);
    assert.equal(tunnel.status, 200);
    const ca = await readFile(proxy.caPath, 'utf8');
    // HTTP/2 spoken by hand on a TLS socket of our own: Node's client session would not let the
    // test write junk beneath it. Preface, empty SETTINGS, then GET /hold on stream 1.
    const socket = tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['h2'], ca, servername: 'localhost' });
    socket.on('error', () => undefined);
    cleanups.push(async () => {
      socket.destroy();
    });
    await once(socket, 'secureConnect');
    assert.equal(socket.alpnProtocol, 'h2');
    socket.resume();
    socket.write(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
        frame(0x4, 0, 0, Buffer.alloc(0)),
        frame(0x1, 0x5, 1, getHeaders(authority, '/hold')),
      ]),
    );
    await arrived.promise;
    // A PING on stream 1 (PINGs belong to stream 0), then more junk: the proxy's HTTP/2 session
    // fails with a protocol error while /hold still waits for its answer.
    socket.write(Buffer.concat([frame(0x6, 0, 1, Buffer.from('garbage!')), Buffer.from('garbage')]));
    const { flow, record } = await ended(proxy, `https://${authority}/hold`);
    assert.equal(record.status, undefined);
    assert.equal(record.error?.code, 'aborted');
    assert.match(record.error.message, /^the client's HTTP\/2 stream failed: /);
    assert.equal(flow.incomplete, true);
    for (const res of held) res.destroy();
  });
});

/** One HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK block for `GET https://authority path`: static-table :method and :scheme, literal :path and :authority. */
function getHeaders(authority: string, path: string): Buffer {
  // RFC 7541: 0x82 = :method GET, 0x87 = :scheme https; 0x04 / 0x01 = literal without indexing, name :path / :authority.
  const literal = (index: number, value: string): Buffer =>
    Buffer.concat([Buffer.from([index, value.length]), Buffer.from(value, 'latin1')]);
  return Buffer.concat([Buffer.from([0x82, 0x87]), literal(0x04, path), literal(0x01, authority)]);
}

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';
import type { Flow, MessageRecord } from '../../src/index.js';
import { sendViaProxy } from '../helpers/client.js';
import { e2eFixture, httpOrigin } from '../helpers/fixture.js';
import { validateHar } from '../helpers/har-schema.js';
import { refusedPort } from '../helpers/listen.js';
import type { EchoBody } from '../helpers/origin.js';
import { within } from '../helpers/deadline.js';
import { Recorder, startTestProxy } from '../helpers/proxy.js';
import { clientClosed, openClient, refusal, type OpenClient } from '../helpers/ws-client.js';
import { startWsOrigin, type OriginSocket, type WsOrigin } from '../helpers/ws-origin.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('WebSockets through the proxy', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      plain: () => startWsOrigin(),
      // context takeover (the default) on both sides, a window the client would never pick itself.
      secure: (pki) => startWsOrigin({ tls: pki.origin, perMessageDeflate: { serverMaxWindowBits: 10, threshold: 0 } }),
      http: httpOrigin,
    },
    proxies: { mitm: {} },
  });
  let mitmCa: string;

  before(async () => {
    mitmCa = await readFile(fx.mitm.caPath, 'utf8');
  });

  const flowFor = (path: string): Promise<Flow> => fx.mitm.proxy.waitForFlow((flow) => flow.request.url.endsWith(path));

  it('ws:// through the proxy port (absolute URI): the origin picks the subprotocol, messages echo, the flow records them', async () => {
    const client = await openClient(`${fx.plain.url}/chat?room=1`, ['one', 'two'], { agent: new HttpProxyAgent(fx.mitm.url) });
    const origin = await fx.plain.nextSocket();
    assert.equal(client.ws.protocol, 'two');
    assert.equal(origin.request.url, '/chat?room=1');
    assert.equal(origin.request.headers['sec-websocket-protocol'], 'one,two');
    client.ws.send('hello');
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    await client.received(2);
    assert.deepEqual(
      client.messages.map((m) => [m.isBinary, m.data.toString('hex')]),
      [
        [false, Buffer.from('hello').toString('hex')],
        [true, '000102ff'],
      ],
    );
    client.ws.close(1000);
    const flow = await flowFor('/chat?room=1');
    assert.equal(flow.request.url, `http://localhost:${fx.plain.port}/chat?room=1`);
    assert.equal(flow.response?.status, 101);
    const record = await fx.mitm.flows.waitFor((f) => f.id === flow.id);
    assert.equal(record.status, 101);
    const seen = (flow.webSocket?.messages ?? []).map((m) => `${m.direction} ${m.type} ${m.data.toString('hex')}`);
    assert.deepEqual(
      seen.filter((line) => line.startsWith('client-to-server')),
      [`client-to-server text ${Buffer.from('hello').toString('hex')}`, 'client-to-server binary 000102ff'],
    );
    assert.deepEqual(
      seen.filter((line) => line.startsWith('server-to-client')),
      [`server-to-client text ${Buffer.from('hello').toString('hex')}`, 'server-to-client binary 000102ff'],
    );
    // In the HAR as Chrome writes WebSocket entries: the 101, marked websocket, with its messages.
    const entry = validateHar(fx.mitm.proxy.har()).log.entries.find((e) => e.request.url.endsWith('/chat?room=1'));
    assert.equal(entry?.request.url, `ws://localhost:${fx.plain.port}/chat?room=1`);
    assert.equal(entry?.response.status, 101);
    assert.equal(entry?._resourceType, 'websocket');
    const messages = entry?._webSocketMessages ?? [];
    assert.deepEqual(
      messages.filter((m) => m.type === 'send').map((m) => [m.opcode, m.data]),
      [
        [1, 'hello'],
        [2, 'AAEC/w=='],
      ],
    );
    assert.deepEqual(
      messages.filter((m) => m.type === 'receive').map((m) => [m.opcode, m.data]),
      [
        [1, 'hello'],
        [2, 'AAEC/w=='],
      ],
    );
    for (const message of messages)
      assert.ok(Math.abs(message.time * 1000 - Date.now()) < 60_000, `time ${message.time} is not epoch seconds`);
  });

  it('wss:// through CONNECT with the mitm CA: subprotocol and permessage-deflate are negotiated with the origin', async () => {
    const client = await openClient(`${fx.secure.url}/deflate`, ['alpha', 'beta', 'gamma'], {
      agent: new HttpsProxyAgent(fx.mitm.url),
      ca: mitmCa,
      perMessageDeflate: { threshold: 0 },
    });
    const origin = await fx.secure.nextSocket();
    assert.equal(client.ws.protocol, 'beta');
    assert.match(origin.request.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate/);
    // The origin's own parameter reached the client: the extension was not re-negotiated by the proxy.
    assert.equal(client.ws.extensions, 'permessage-deflate');
    assert.match(String(client.handshake.headers['sec-websocket-extensions']), /^permessage-deflate;.*server_max_window_bits=10/);
    const text = 'all work and no play makes jack a dull boy. '.repeat(200);
    for (let i = 0; i < 3; i += 1) client.ws.send(`${i} ${text}`);
    await client.received(3);
    assert.deepEqual(
      client.messages.map((m) => m.data.toString('utf8')),
      [0, 1, 2].map((i) => `${i} ${text}`),
    );
    client.ws.close();
    const flow = await flowFor('/deflate');
    assert.equal(flow.request.url, `https://localhost:${fx.secure.port}/deflate`);
    // Recorded decompressed, while the frames to the client stayed compressed.
    const received = (flow.webSocket?.messages ?? []).filter((m) => m.direction === 'server-to-client');
    assert.deepEqual(
      received.map((m) => m.data.toString('utf8')),
      [0, 1, 2].map((i) => `${i} ${text}`),
    );
    const record = await fx.mitm.flows.waitFor((f) => f.id === flow.id);
    assert.ok(record.responseBytes < text.length, `${record.responseBytes} bytes went to the client: not compressed`);
  });

  it('ws:// through a CONNECT tunnel (plain HTTP inside)', async () => {
    const client = await openClient(`${fx.plain.url}/tunnelled`, [], { agent: new HttpsProxyAgent(fx.mitm.url) });
    const origin = await fx.plain.nextSocket();
    assert.equal(origin.request.url, '/tunnelled');
    client.ws.send('through the tunnel');
    await client.received(1);
    assert.equal(client.messages[0]?.data.toString('utf8'), 'through the tunnel');
    client.ws.close();
    assert.equal((await flowFor('/tunnelled')).request.url, `http://localhost:${fx.plain.port}/tunnelled`);
  });

  it('1 MiB binary messages round-trip byte-exact over permessage-deflate', async () => {
    const client = await openClient(`${fx.secure.url}/big`, [], {
      agent: new HttpsProxyAgent(fx.mitm.url),
      ca: mitmCa,
      perMessageDeflate: { threshold: 0 },
    });
    const origin = await fx.secure.nextSocket();
    const random = randomBytes(1024 * 1024);
    const repetitive = Buffer.alloc(1024 * 1024, 'abcdefgh');
    client.ws.send(random);
    client.ws.send(repetitive);
    await client.received(2);
    assert.deepEqual(
      origin.messages.map((m) => sha256(m.data)),
      [sha256(random), sha256(repetitive)],
    );
    assert.deepEqual(
      client.messages.map((m) => sha256(m.data)),
      [sha256(random), sha256(repetitive)],
    );
    client.ws.close();
  });

  it('close codes and reasons pass both ways', async () => {
    const first = await openClient(`${fx.plain.url}/close-client`, [], { agent: new HttpProxyAgent(fx.mitm.url) });
    const firstOrigin = await fx.plain.nextSocket();
    const firstClosed = clientClosed(first.ws);
    first.ws.close(4001, 'bye');
    assert.deepEqual(await firstOrigin.closed, { code: 4001, reason: 'bye' });
    assert.deepEqual(await firstClosed, { code: 4001, reason: 'bye' });

    const second = await openClient(`${fx.plain.url}/close-server`, [], { agent: new HttpProxyAgent(fx.mitm.url) });
    const secondOrigin = await fx.plain.nextSocket();
    const secondClosed = clientClosed(second.ws);
    secondOrigin.ws.close(4002, 'server says bye');
    assert.deepEqual(await secondClosed, { code: 4002, reason: 'server says bye' });
    assert.deepEqual(await secondOrigin.closed, { code: 4002, reason: 'server says bye' });
  });

  it('pings and pongs pass both ways with their payloads', async () => {
    const client = await openClient(`${fx.plain.url}/ping`, [], { agent: new HttpProxyAgent(fx.mitm.url) });
    const origin = await fx.plain.nextSocket();
    const clientPong = once(client.ws, 'pong');
    client.ws.ping(Buffer.from('are you there'));
    assert.equal(((await clientPong)[0] as Buffer).toString('utf8'), 'are you there');
    const originPong = once(origin.ws, 'pong');
    origin.ws.ping(Buffer.from('and you?'));
    assert.equal(((await originPong)[0] as Buffer).toString('utf8'), 'and you?');
    client.ws.close();
  });

  it('an origin that refuses the upgrade: its 403 and body reach the client', async () => {
    const ws = new WebSocket(`${fx.plain.url}/refuse`, { agent: new HttpProxyAgent(fx.mitm.url) });
    const answer = await refusal(ws);
    assert.equal(answer.status, 403);
    assert.equal(answer.body, 'refused');
    const record = await fx.mitm.flows.waitFor((f) => f.url.endsWith('/refuse'));
    assert.equal(record.status, 403);
  });

  it('an unreachable origin: 502 with x-mitm-error, over the proxy port and through a tunnel', async () => {
    const port = await refusedPort();
    const direct = await refusal(new WebSocket(`ws://127.0.0.1:${port}/gone`, { agent: new HttpProxyAgent(fx.mitm.url) }));
    assert.equal(direct.status, 502);
    assert.equal(direct.headers['x-mitm-error'], 'upstream_refused');
    assert.match(direct.body, new RegExp(`127\\.0\\.0\\.1:${port}`));
    const tunnelled = await refusal(new WebSocket(`wss://localhost:${port}/gone`, { agent: new HttpsProxyAgent(fx.mitm.url), ca: mitmCa }));
    assert.equal(tunnelled.status, 502);
    assert.equal(tunnelled.headers['x-mitm-error'], 'upstream_refused');
  });

  it('another upgrade (h2c) is served as a plain request, body included, without its Upgrade', async () => {
    const res = await sendViaProxy(fx.mitm.port, `${fx.http.url}/echo`, {
      method: 'POST',
      headers: {
        connection: 'Upgrade, HTTP2-Settings',
        upgrade: 'h2c',
        'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
        'content-length': '5',
      },
      body: 'hello',
    });
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.body, 'hello');
    assert.equal(echo.headers.upgrade, undefined);
    assert.equal(echo.headers['http2-settings'], undefined);
  });

  it('--proxy-auth guards upgrades on the proxy port, and --upstream-proxy carries them through a tunnel', async (t) => {
    const upstream = await startTestProxy(fx.pki);
    t.after(() => upstream.close());
    const front = await startTestProxy(fx.pki, { proxyAuth: ['ann:secret'], upstreamProxy: upstream.url });
    t.after(() => front.close());
    const denied = await refusal(new WebSocket(`${fx.plain.url}/chained`, { agent: new HttpProxyAgent(front.url) }));
    assert.equal(denied.status, 407);
    assert.equal(denied.headers['x-mitm-error'], 'proxy_auth_required');
    assert.match(String(denied.headers['proxy-authenticate']), /^Basic/);
    const client = await openClient(`${fx.plain.url}/chained`, [], {
      agent: new HttpProxyAgent(`http://ann:secret@127.0.0.1:${front.port}`),
    });
    client.ws.send('via two proxies');
    await client.received(1);
    assert.equal(client.messages[0]?.data.toString('utf8'), 'via two proxies');
    client.ws.close();
    // The upstream proxy got a CONNECT, and inside it the upgrade, which it relayed in turn.
    const relayed = await upstream.proxy.waitForFlow((flow) => flow.request.url.endsWith('/chained'));
    assert.equal(relayed.response?.status, 101);
    assert.equal((await front.proxy.waitForFlow((flow) => flow.request.url.endsWith('/chained'))).client.user, 'ann');
  });

  it('with recording off and no hook, bytes are piped untouched', async (t) => {
    const bare = await startTestProxy(fx.pki, { keep: 0 });
    t.after(() => bare.close());
    const client = await openClient(`${fx.secure.url}/bare`, ['x', 'y'], {
      agent: new HttpsProxyAgent(bare.url),
      ca: await readFile(bare.caPath, 'utf8'),
    });
    assert.equal(client.ws.protocol, 'y');
    const payload = randomBytes(256 * 1024);
    client.ws.send(payload);
    await client.received(1);
    assert.equal(sha256(client.messages[0]?.data ?? Buffer.alloc(0)), sha256(payload));
    const closed = clientClosed(client.ws);
    client.ws.close(4003, 'done');
    assert.deepEqual(await closed, { code: 4003, reason: 'done' });
  });

  // Earlier tests leave origin sockets they did not take: the one for `path`, past those.
  const originSocket = async (origin: WsOrigin, path: string): Promise<OriginSocket> => {
    for (;;) {
      const socket = await origin.nextSocket();
      if (socket.request.url === path) return socket;
    }
  };

  // A burst of small messages, each carrying its index, echoed by the origin: what a relay that
  // batches its writes could reorder, drop or merge.
  const burst = async (client: OpenClient, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) client.ws.send(i % 2 === 0 ? `text ${i}` : Buffer.from(`binary ${i}`));
    await within(client.received(count), `${count} echoes`);
    const expected = Array.from({ length: count }, (_, i) => [i % 2 === 1, i % 2 === 0 ? `text ${i}` : `binary ${i}`]);
    assert.deepEqual(
      client.messages.map((m) => [m.isBinary, m.data.toString('utf8')]),
      expected,
    );
  };

  it('recording off, no hook, no listener: a burst flows both ways in order, and frames pass unparsed, close codes too', async (t) => {
    const bare = await startTestProxy(fx.pki, { keep: 0 });
    t.after(() => bare.close());
    const client = await openClient(`${fx.secure.url}/fast`, [], { agent: new HttpsProxyAgent(bare.url), ca: bare.caPem });
    const origin = await originSocket(fx.secure, '/fast');
    await burst(client, 500);
    // A ping longer than 125 bytes (RFC 6455 §5.5), masked with zeros: the proxy's frame parser
    // would refuse it and cut both connections off (1006); the byte pipe hands it to the origin,
    // whose refusal, a close frame with 1002, reaches the client.
    const bad = Buffer.concat([Buffer.from([0x89, 0x80 | 126, 0, 126]), Buffer.alloc(4), Buffer.alloc(126)]);
    const closed = clientClosed(client.ws);
    // ws has no public handle on its socket; this one is the TLS session through the tunnel.
    (client.ws as unknown as { _socket: Duplex })._socket.write(bad);
    assert.deepEqual(await within(closed, 'the close'), { code: 1002, reason: '' });
    assert.equal(origin.messages.length, 500);
  });

  it("recording off: a 'message' listener still gets every message, both ways", async (t) => {
    const bare = await startTestProxy(fx.pki, { keep: 0 });
    t.after(() => bare.close());
    const seen = new Recorder<MessageRecord>();
    bare.proxy.on('message', (message) => seen.push(message));
    const client = await openClient(`${fx.secure.url}/listened`, [], { agent: new HttpsProxyAgent(bare.url), ca: bare.caPem });
    await burst(client, 20);
    await seen.waitFor(() => seen.items.length === 40);
    for (const direction of ['client-to-server', 'server-to-client'] as const) {
      assert.deepEqual(
        seen.items.filter((m) => m.direction === direction).map((m) => [m.type, m.size]),
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ['text', `text ${i}`.length] : ['binary', `binary ${i}`.length])),
      );
    }
    client.ws.close();
  });

  it("recording on, no hook: compressed and fragmented messages in a burst are recorded in order, decompressed, both ways, and a 'message' listener sees each", async (t) => {
    const seen = new Recorder<MessageRecord>();
    const listener = (message: MessageRecord): void => seen.push(message);
    fx.mitm.proxy.on('message', listener);
    t.after(() => fx.mitm.proxy.off('message', listener));
    const client = await openClient(`${fx.secure.url}/tapped`, [], {
      agent: new HttpsProxyAgent(fx.mitm.url),
      ca: mitmCa,
      perMessageDeflate: { threshold: 0 },
    });
    await originSocket(fx.secure, '/tapped');
    // Context takeover both ways: each message inflates only after every one before it did. All 120
    // fit the record (64 KiB).
    const text = (i: number): string => `${i} ${'the same words again and again, '.repeat(8 + (i % 7))}`;
    const count = 60;
    for (let i = 0; i < count; i++) {
      if (i % 5 === 4) {
        // Three fragments, the first compressed (RSV1), the rest continuations.
        const whole = Buffer.from(text(i));
        const third = Math.ceil(whole.length / 3);
        client.ws.send(whole.subarray(0, third), { binary: false, fin: false });
        client.ws.send(whole.subarray(third, 2 * third), { binary: false, fin: false });
        client.ws.send(whole.subarray(2 * third), { binary: false, fin: true });
      } else {
        client.ws.send(i % 2 === 0 ? text(i) : Buffer.from(text(i)));
      }
    }
    await within(client.received(count), `${count} echoes`);
    const expected = Array.from({ length: count }, (_, i) => text(i));
    assert.deepEqual(
      client.messages.map((m) => m.data.toString('utf8')),
      expected,
    );
    await seen.waitFor(() => seen.items.filter((m) => m.url.endsWith('/tapped')).length === 2 * count);
    const closed = clientClosed(client.ws);
    client.ws.close(4010, 'tapped');
    assert.deepEqual(await within(closed, 'the close'), { code: 4010, reason: 'tapped' });
    const flow = await flowFor('/tapped');
    const kept = flow.webSocket?.messages ?? [];
    for (const direction of ['client-to-server', 'server-to-client'] as const) {
      assert.deepEqual(
        kept.filter((m) => m.direction === direction).map((m) => m.data.toString('utf8')),
        expected,
        direction,
      );
      assert.deepEqual(
        seen.items.filter((m) => m.url.endsWith('/tapped') && m.direction === direction).map((m) => [m.size, m.text?.slice(0, 3)]),
        expected.map((m, i) => [Buffer.byteLength(m), i % 2 === 0 || i % 5 === 4 ? m.slice(0, 3) : undefined]),
        direction,
      );
    }
    // The frames went on compressed, as they came.
    const record = await fx.mitm.flows.waitFor((f) => f.id === flow.id);
    assert.ok(record.responseBytes < expected.join('').length / 4, `${record.responseBytes} bytes went to the client: not compressed`);
  });

  it("recording on: past the record's 1000 messages the rest is piped, every message arrives, close codes pass", async () => {
    const client = await openClient(`${fx.plain.url}/long`, [], { agent: new HttpProxyAgent(fx.mitm.url) });
    const origin = await originSocket(fx.plain, '/long');
    await burst(client, 1500);
    const closed = clientClosed(client.ws);
    client.ws.close(4005, 'client done');
    assert.deepEqual(await origin.closed, { code: 4005, reason: 'client done' });
    assert.deepEqual(await closed, { code: 4005, reason: 'client done' });
    const flow = await flowFor('/long');
    const kept = flow.webSocket?.messages ?? [];
    assert.equal(kept.length, 1000);
    assert.equal(kept.filter((m) => m.direction === 'client-to-server')[0]?.data.toString('utf8'), 'text 0');
  });
});

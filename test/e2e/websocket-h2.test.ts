import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { Hook, RunningProxy } from '../../src/index.js';
import { h2ViaProxy } from '../helpers/h2-client.js';
import { hookProxies, type HookProxies } from '../helpers/hook-proxy.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { startWsOrigin, type WsOrigin } from '../helpers/ws-origin.js';

/** A client-to-server frame, built by hand: FIN, `opcode`, the mask bit, a 4-byte key, the masked payload. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  assert.ok(payload.length < 126);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (key[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), key, masked]);
}

/** Reads unmasked server frames (payloads under 126 bytes) off a stream, one at a time. */
function frameReader(stream: ClientHttp2Stream): () => Promise<{ fin: boolean; opcode: number; masked: boolean; payload: Buffer }> {
  let buffered = Buffer.alloc(0);
  const iterator = stream[Symbol.asyncIterator]();
  return async () => {
    for (;;) {
      if (buffered.length >= 2) {
        const length = (buffered[1] as number) & 0x7f;
        assert.ok(length < 126, 'short frames only');
        if (buffered.length >= 2 + length) {
          const frame = {
            fin: ((buffered[0] as number) & 0x80) !== 0,
            opcode: (buffered[0] as number) & 0x0f,
            masked: ((buffered[1] as number) & 0x80) !== 0,
            payload: buffered.subarray(2, 2 + length),
          };
          buffered = buffered.subarray(2 + length);
          return frame;
        }
      }
      const next = await iterator.next();
      if (next.done) throw new Error('the stream ended before a whole frame arrived');
      buffered = Buffer.concat([buffered, next.value as Buffer]);
    }
  };
}

const closePayload = (code: number, reason: string): Buffer => {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
};

// RFC 8441: a Node http2 client opens WebSockets on the proxy's HTTP/2 session with extended CONNECT.
describe('WebSockets over HTTP/2 (RFC 8441)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: WsOrigin;
  let mitm: TestProxy;
  let hooked: HookProxies;
  const sessions: ClientHttp2Session[] = [];

  const open = async (proxy: { port: number }, caPem: string): Promise<ClientHttp2Session> => {
    const session = await h2ViaProxy(proxy.port, `localhost:${origin.port}`, caPem);
    sessions.push(session);
    if (!session.remoteSettings.enableConnectProtocol) await once(session, 'remoteSettings');
    return session;
  };
  const connectWebSocket = async (
    session: ClientHttp2Session,
    path: string,
  ): Promise<{ stream: ClientHttp2Stream; head: IncomingHttpHeaders }> => {
    const stream = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':path': path,
      ':scheme': 'https',
      ':authority': `localhost:${origin.port}`,
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'a, b',
    });
    const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    return { stream, head };
  };

  before(async () => {
    pki = await createTestPki();
    origin = await startWsOrigin({ tls: pki.origin });
    mitm = await startTestProxy(pki);
    hooked = await hookProxies(pki);
  });

  after(async () => {
    for (const session of sessions) session.destroy();
    await mitm?.close();
    await hooked?.cleanup();
    await origin?.close();
    await pki?.cleanup();
  });

  it("advertises extended CONNECT; a :protocol websocket stream gets 200 and the origin's subprotocol, echoes frames, and passes the close code", async () => {
    const session = await open(mitm, await readFile(mitm.caPath, 'utf8'));
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
    const { stream, head } = await connectWebSocket(session, '/echo');
    assert.equal(head[':status'], 200);
    // ws-origin picks the second subprotocol offered.
    assert.equal(head['sec-websocket-protocol'], 'b');
    assert.equal(head['sec-websocket-accept'], undefined);
    const server = await origin.nextSocket();
    assert.equal(server.request.url, '/echo');
    assert.equal(server.request.headers['sec-websocket-protocol'], 'a, b');
    assert.equal(server.ws.protocol, 'b');

    const read = frameReader(stream);
    stream.write(maskedFrame(0x1, Buffer.from('hello over h2')));
    const echo = await read();
    assert.deepEqual(
      { ...echo, payload: echo.payload.toString('utf8') },
      { fin: true, opcode: 0x1, masked: false, payload: 'hello over h2' },
    );
    assert.deepEqual(
      server.messages.map((m) => m.data.toString('utf8')),
      ['hello over h2'],
    );

    stream.write(maskedFrame(0x8, closePayload(4001, 'bye')));
    assert.deepEqual(await server.closed, { code: 4001, reason: 'bye' });
    const reply = await read();
    assert.equal(reply.opcode, 0x8);
    assert.equal(reply.payload.readUInt16BE(0), 4001);
    stream.end();
    await once(stream, 'close');

    const flow = await mitm.proxy.waitForFlow((f) => f.request.url.endsWith('/echo'));
    assert.equal(flow.request.url, `https://localhost:${origin.port}/echo`);
    assert.equal(flow.request.httpVersion, '2.0');
    assert.equal(flow.response?.status, 101);
    const record = await mitm.flows.waitFor((f) => f.id === flow.id);
    assert.equal(record.status, 101);
    assert.deepEqual(
      (flow.webSocket?.messages ?? []).map((m) => `${m.direction} ${m.data.toString('utf8')}`),
      ['client-to-server hello over h2', 'server-to-client hello over h2'],
    );
  });

  it('an onWebSocketMessage hook changes the text over HTTP/2 both ways', async (t) => {
    const shout: Hook = {
      name: 'shout',
      onWebSocketMessage(_flow, message) {
        if (typeof message.data === 'string') message.data = `${message.data.toUpperCase()} (${message.direction})`;
        return undefined;
      },
    };
    const proxy: RunningProxy = await hooked.start(t, [shout]);
    const session = await open(proxy, hooked.caPem);
    const { stream, head } = await connectWebSocket(session, '/hooked');
    assert.equal(head[':status'], 200);
    const server = await origin.nextSocket();
    const read = frameReader(stream);
    stream.write(maskedFrame(0x1, Buffer.from('quiet')));
    const echo = await read();
    assert.equal(echo.masked, false);
    assert.equal(echo.payload.toString('utf8'), 'QUIET (CLIENT-TO-SERVER) (server-to-client)');
    assert.deepEqual(
      server.messages.map((m) => m.data.toString('utf8')),
      ['QUIET (client-to-server)'],
    );
    stream.write(maskedFrame(0x8, closePayload(1000, '')));
    assert.equal((await server.closed).code, 1000);
    stream.end();
  });

  it('an origin refusal comes back with its status; an unreachable origin is a 502 with x-mitm-error', async (t) => {
    const session = await open(mitm, await readFile(mitm.caPath, 'utf8'));
    const refused = await connectWebSocket(session, '/refuse');
    assert.equal(refused.head[':status'], 403);
    const chunks: Buffer[] = [];
    for await (const chunk of refused.stream) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString('utf8'), 'refused');

    const retarget: Hook = {
      name: 'retarget',
      onRequest(flow) {
        // Port 1 on loopback: nothing listens there.
        flow.request.url = 'https://127.0.0.1:1/nowhere';
      },
    };
    const broken = await hooked.start(t, [retarget]);
    const brokenSession = await open(broken, hooked.caPem);
    const unreachable = await connectWebSocket(brokenSession, '/gone');
    assert.equal(unreachable.head[':status'], 502);
    assert.match(String(unreachable.head['x-mitm-error']), /^upstream_/);
    unreachable.stream.resume();
    await once(unreachable.stream, 'end');
  });
});

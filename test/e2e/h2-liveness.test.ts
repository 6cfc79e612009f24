// HTTP/2 sessions towards clients that go quiet with streams open (issue 16, the fuzzer's leak):
// one whose client broke the protocol and left (Node stops reading such a session, so its FIN is
// never seen) is destroyed after the idle timeout and an unanswered PING; a live one that is quiet
// while the origin thinks answers the PING and keeps its stream. Real sockets, 127.0.0.0/8 only.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { openTunnel } from '../helpers/client.js';
import { TextReader, within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { until } from '../helpers/until.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const DATA = 0x0;
const HEADERS = 0x1;
const SETTINGS = 0x4;
const GOAWAY = 0x7;
const END_HEADERS = 0x4;

/** One HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK literal field without indexing, new name (RFC 7541 §6.2.2); names and values under 127 bytes. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.of(0, name.length), Buffer.from(name), Buffer.of(value.length), Buffer.from(value)]);
}

/** The frame types in a received byte stream (the server's side, no preface). */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) types.push(bytes[at + 3] ?? -1);
  return types;
}

describe('HTTP/2 sessions that go quiet with streams open', { timeout: 60_000 }, () => {
  // The origin holds each answer until the test releases it.
  const held: ServerResponse[] = [];
  const arrived: Array<() => void> = [];
  const fx = e2eFixture({
    origins: {
      origin: customOrigin(
        (req, res) => {
          req.resume();
          held.push(res);
          for (const wake of arrived.splice(0)) wake();
        },
        { secure: true },
      ),
    },
    proxies: { quick: { idleTimeout: 400 } },
  });
  fx.onClose(() => {
    for (const res of held) res.destroy();
  });

  it('a client that breaks the protocol while a stream waits for its body, then leaves, is closed', async () => {
    const tunnel = await openTunnel(fx.quick.port, `localhost:${fx.origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const tls = tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['h2'], ca: fx.quick.caPem, servername: 'localhost' });
    tls.on('error', () => {});
    await within(once(tls, 'secureConnect'), 'the TLS handshake through the proxy');
    assert.equal(tls.alpnProtocol, 'h2');
    const received: Buffer[] = [];
    let wake = (): void => undefined;
    tls.on('data', (chunk: Buffer) => {
      received.push(chunk);
      wake();
    });
    const goaway = new Promise<void>((resolve) => {
      wake = () => {
        if (frameTypes(Buffer.concat(received)).includes(GOAWAY)) resolve();
      };
    });
    // A POST whose body never comes (no END_STREAM), then DATA on a stream never opened: a
    // connection error (RFC 9113 §5.1), which nghttp2 answers with GOAWAY.
    const head = Buffer.concat([
      Buffer.of(0x83, 0x87, 0x84), // :method POST, :scheme https, :path / (static table)
      literal(':authority', 'localhost'),
    ]);
    tls.write(
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0, Buffer.alloc(0)),
        frame(HEADERS, END_HEADERS, 1, head),
        frame(DATA, 0, 5, Buffer.from('stray')),
      ]),
    );
    await within(goaway, () => `a GOAWAY from the proxy (frames so far: ${frameTypes(Buffer.concat(received)).join(',')})`);
    const closed = once(tls, 'close');
    tls.end();
    await within(closed, 'the proxy to close the connection (idle timeout, then an unanswered PING)');
    await until(() => fx.quick.proxy.connections === 0, 'the proxy to have no client connection left', {
      describe: () => `${fx.quick.proxy.connections} open`,
    });
  });

  it('a live client whose stream is quiet past the idle timeout answers a PING and gets its response', async () => {
    const tunnel = await openTunnel(fx.quick.port, `localhost:${fx.origin.port}`);
    assert.equal(tunnel.status, 200);
    const session: ClientHttp2Session = http2.connect('https://localhost', {
      createConnection: () => tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['h2'], ca: fx.quick.caPem, servername: 'localhost' }),
    });
    session.on('error', () => undefined);
    try {
      const pinged = once(session, 'ping');
      const atOrigin = new Promise<void>((resolve) => arrived.push(resolve));
      const stream = session.request({ ':path': '/slow' }, { endStream: true });
      const reader = new TextReader(stream);
      const response = once(stream, 'response') as Promise<[IncomingHttpHeaders]>;
      await within(atOrigin, 'the request at the origin');
      await within(pinged, "the proxy's PING once the session was quiet for the idle timeout");
      held.at(-1)?.writeHead(200, { 'content-type': 'text/plain' }).end('late but fine');
      const [headers] = await within(response, 'the response');
      assert.equal(headers[':status'], 200);
      assert.equal(await reader.ended(), 'late but fine');
      assert.equal(session.destroyed, false);
    } finally {
      session.destroy();
    }
  });
});

// The HTTP/2 floor under any intercepting proxy written on Node, as tls-relay.ts is for bytes: a
// CONNECT is answered, the client's TLS is terminated with mitm's own leaf (h2 offered in ALPN),
// and every stream of the client's session becomes a stream on one HTTP/2 session to the origin
// (opened per tunnel), with the core `stream` API on both sides. Its header block is passed on
// as Node hands it out, the answer's head likewise, and the body relayed (ending with the last
// byte of a declared length): no hooks, no recording, no header translation, no pooling across
// tunnels, no backpressure for bodies longer than the stream windows. Started by bench/peers/h2-relay.ts.
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { initCa } from '../../src/ca/authority.js';
import { createCertCache } from '../../src/ca/cert-cache.js';
import { createLeafMinter } from '../../src/ca/mint-leaf.js';
import { announce, exitOnSignal, peerArgs } from '../peers/peer-io.js';
import { readConnect } from './tls-relay.js';

/** Starts the relay on 127.0.0.1 with the peer's arguments (bench/peers/peer-io.ts). */
export async function runH2Relay(): Promise<void> {
  const { originCa, state } = peerArgs();
  const caDir = join(state, 'h2-relay-ca');
  const { ca } = await initCa(caDir);
  const certs = createCertCache(await createLeafMinter(ca), { max: 1000 });
  const trusted = readFileSync(originCa);
  const front = http2.createServer({ settings: { maxConcurrentStreams: 256 } });
  const open = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    readConnect(client, (host, port) => {
      certs.get(host).then(
        (secureContext) => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          const inner = new TLSSocket(client, { isServer: true, secureContext, ALPNProtocols: ['h2'] });
          inner.once('secure', () => {
            // As src/tls/client-tls.ts does: a server-side socket never emits the 'secureConnect'
            // an http2 session set up on a socket still marked as connecting would wait for.
            (inner as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
            const origin = http2.connect(`https://${host}:${port}`, { ca: trusted });
            origin.on('error', () => inner.destroy());
            const relay = (session: http2.ServerHttp2Session): void => {
              session.on('stream', (stream, headers) => relayStream(origin, stream, headers));
              session.once('close', () => origin.close());
            };
            front.once('session', relay);
            front.emit('connection', inner);
            front.off('session', relay);
          });
        },
        () => client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    announce(address.port, join(caDir, 'ca.pem'));
  });
  exitOnSignal(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        for (const socket of open) socket.destroy();
      }),
  );
}

/** One client stream as one origin stream: the head as it came, the body piped both ways. */
function relayStream(origin: ClientHttp2Session, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const endStream = stream.endAfterHeaders;
  const upstream = origin.request(headers, { endStream });
  if (!endStream) stream.pipe(upstream);
  const fail = (): void => {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    if (!upstream.destroyed) upstream.close(http2.constants.NGHTTP2_CANCEL);
  };
  upstream.on('error', fail);
  stream.on('error', fail);
  upstream.once('response', (head: IncomingHttpHeaders) => {
    if (stream.destroyed) return;
    // As mitm does (exchange/relay.ts endAt): the last DATA frame of a sized body ends the stream.
    // Piped to the origin stream's own end, END_STREAM would follow in a frame of its own, which
    // curl often answers with RST_STREAM, costing both hops a reset.
    stream.respond(head);
    const declared = Number(head['content-length'] ?? Number.NaN);
    if (!(declared > 0)) {
      upstream.pipe(stream);
      return;
    }
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (sent < declared) stream.write(chunk);
      else if (sent - chunk.length < declared) stream.end(chunk);
    });
    upstream.once('end', () => stream.end());
  });
}

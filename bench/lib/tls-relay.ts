// The floor under any intercepting proxy written on Node: a CONNECT is answered, the client's TLS
// is terminated with mitm's own leaf (same minting and cache), one verified TLS connection is
// opened to the origin, and the two are piped to each other. No HTTP parsing, no hooks, no
// recording, no pooling: what is left is Node's two TLS sessions and its streams. A proxy that
// sees requests cannot do less work per byte, so its ratios bound what mitm can reach here.
// Started by bench/peers/tls-relay.ts and bench/peers/tls-relay-peek.ts; bench/peers/tcp-relay.ts
// runs it without the TLS (the tunnel's bytes piped as they are): the cost of the hop alone.
import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer, isIP, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { TLSSocket, connect, type SecureContext } from 'node:tls';
import { initCa } from '../../src/ca/authority.js';
import { createCertCache, type CertCache } from '../../src/ca/cert-cache.js';
import { createLeafMinter } from '../../src/ca/mint-leaf.js';
import { TLS_BUFFERING } from '../../src/net/buffers.js';
import { announce, exitOnSignal, peerArgs } from '../peers/peer-io.js';

const HEAD_LIMIT = 8192;

interface Relay {
  readonly certs: CertCache;
  /** The origin's CA. */
  readonly trusted: Buffer;
  /** Read the client's first bytes (its ClientHello) and put them back before TLS takes the socket. */
  readonly peekHello: boolean;
  /** No interception: the tunnel's bytes go to the origin as they are (the client trusts the origin's CA). */
  readonly tcp: boolean;
}

/**
 * Starts the relay on 127.0.0.1 with the peer's arguments (bench/peers/peer-io.ts). With
 * `peekHello`, it reads the ClientHello first, as a proxy must that tells TLS from plain HTTP or
 * reads the SNI before answering (mitm does both).
 */
export async function runRelay(options: { readonly peekHello: boolean; readonly tcp?: boolean }): Promise<void> {
  const { originCa, state } = peerArgs();
  const caDir = join(state, 'tls-relay-ca');
  const { ca } = await initCa(caDir);
  const relay: Relay = {
    certs: createCertCache(await createLeafMinter(ca), { max: 1000 }),
    trusted: readFileSync(originCa),
    peekHello: options.peekHello,
    tcp: options.tcp === true,
  };
  const open = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    relayConnect(relay, client);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    announce(address.port, relay.tcp ? originCa : join(caDir, 'ca.pem'));
  });
  exitOnSignal(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        for (const socket of open) socket.destroy();
      }),
  );
}

/** Answers the CONNECT and relays the tunnel: as bytes over TCP, or through two TLS sessions. */
function relayConnect(relay: Relay, client: Socket): void {
  readConnect(client, (host, port) => {
    if (relay.tcp) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      pipeTcp(client, host, port);
      return;
    }
    relay.certs.get(host).then(
      (secureContext) => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (!relay.peekHello) {
          pipeTls(relay, client, host, port, secureContext);
          return;
        }
        client.once('data', (hello: Buffer) => {
          client.pause();
          client.unshift(hello);
          pipeTls(relay, client, host, port, secureContext);
        });
        client.resume();
      },
      () => client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'),
    );
  });
}

/** Reads a CONNECT head (paused after it) and hands its host and port on; anything else gets 405. */
export function readConnect(client: Socket, then: (host: string, port: number) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > HEAD_LIMIT) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const [method, authority = ''] = head.subarray(0, end).toString('latin1').split(' ');
    const colon = authority.lastIndexOf(':');
    const host = authority.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(authority.slice(colon + 1));
    if (method !== 'CONNECT' || colon < 1 || !port) {
      client.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    then(host, port);
  };
  client.on('data', onData);
}

/** Terminates the client's TLS and pipes it to a fresh, verified TLS connection to host:port. */
function pipeTls(relay: Relay, client: Socket, host: string, port: number, secureContext: SecureContext): void {
  const inner = new TLSSocket(client, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'], ...TLS_BUFFERING });
  const origin = connect({
    host,
    port,
    ca: relay.trusted,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ALPNProtocols: ['http/1.1'],
    ...TLS_BUFFERING,
  });
  origin.setNoDelay(true);
  const close = (): void => {
    inner.destroy();
    origin.destroy();
  };
  pipeline(inner, origin, close);
  pipeline(origin, inner, close);
}

/** Pipes the tunnel to a plain TCP connection to host:port: the hop a proxy adds, without TLS. */
function pipeTcp(client: Socket, host: string, port: number): void {
  const origin = netConnect({ host, port, noDelay: true });
  const close = (): void => {
    client.destroy();
    origin.destroy();
  };
  pipeline(client, origin, close);
  pipeline(origin, client, close);
}

import { once } from 'node:events';
import http2, { type ClientHttp2Session } from 'node:http2';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { openTunnel } from './client.js';

/** One HTTP/2 frame the proxy sent: its type (0 DATA, 1 HEADERS…), flags, stream and payload length. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly length: number;
}

export const DATA = 0;
export const HEADERS = 1;
export const END_STREAM = 0x1;

/**
 * Opens an HTTP/2 session through the proxy, as h2-client.ts's h2ViaProxy does, with every frame
 * the proxy sends on it read off the decrypted bytes (RFC 9113 §4.1) into `frames`.
 */
export async function tappedH2ViaProxy(
  proxyPort: number,
  authority: string,
  ca: string,
): Promise<{ session: ClientHttp2Session; frames: Frame[] }> {
  const tunnel = await openTunnel(proxyPort, authority);
  if (tunnel.status !== 200) {
    tunnel.socket.destroy();
    throw new Error(`CONNECT ${authority} answered ${tunnel.status}`);
  }
  const tls = tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['h2'], ca, servername: 'localhost' });
  await once(tls, 'secureConnect');
  const frames: Frame[] = [];
  const session = http2.connect(`https://${authority}`, { createConnection: () => tap(tls, frames) });
  session.on('error', () => undefined);
  await once(session, 'connect');
  return { session, frames };
}

/** A Duplex passing bytes between `tls` and the session, parsing the frames that come in. */
function tap(tls: TLSSocket, frames: Frame[]): Duplex {
  let pending = Buffer.alloc(0);
  const duplex = new Duplex({
    read: () => tls.resume(),
    write: (chunk: Buffer, _encoding, done) => tls.write(chunk, done),
    final: (done) => tls.end(done),
    destroy: (error, done) => {
      tls.destroy();
      done(error);
    },
  });
  tls.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      frames.push({ type: pending[3] as number, flags: pending[4] as number, stream: pending.readUInt32BE(5) & 0x7fffffff, length });
      pending = pending.subarray(9 + length);
    }
    if (!duplex.push(chunk)) tls.pause();
  });
  tls.on('end', () => duplex.push(null));
  tls.on('close', () => duplex.destroy());
  return duplex;
}

import { once } from 'node:events';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { openTunnel } from './client.js';

/** A complete HTTP/2 response. */
export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** Trailer fields; empty when none came. */
  readonly trailers: IncomingHttpHeaders;
}

/**
 * Opens an HTTP/2 session through the proxy: CONNECT `authority`, then TLS over the tunnel with
 * ALPN h2 only, verified against `ca` (the proxy's root) for `servername`.
 */
export async function h2ViaProxy(proxyPort: number, authority: string, ca: string, servername = 'localhost'): Promise<ClientHttp2Session> {
  const tunnel = await openTunnel(proxyPort, authority);
  if (tunnel.status !== 200) {
    tunnel.socket.destroy();
    throw new Error(`CONNECT ${authority} answered ${tunnel.status}`);
  }
  const session = http2.connect(`https://${authority}`, {
    createConnection: () => tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['h2'], ca, servername }),
  });
  session.on('error', () => undefined);
  await once(session, 'connect');
  return session;
}

/** Sends one request on `session` (`body` and `trailers` optional) and reads the whole response. */
export async function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  options: { body?: string | Buffer; trailers?: OutgoingHttpHeaders } = {},
): Promise<H2Response> {
  const { body, trailers } = options;
  const endStream = body === undefined && trailers === undefined;
  const stream = session.request(headers, { endStream, waitForTrailers: trailers !== undefined });
  if (trailers !== undefined) stream.once('wantTrailers', () => stream.sendTrailers(trailers));
  if (!endStream) stream.end(body);
  let received: IncomingHttpHeaders = {};
  stream.once('trailers', (fields: IncomingHttpHeaders) => {
    received = fields;
  });
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return { status: Number(head[':status']), headers: head, body: all, text: all.toString('utf8'), trailers: received };
}

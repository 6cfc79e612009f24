// The transparent listener (`--mode transparent@PORT`): connections arrive meant for an origin,
// redirected by DNS, /etc/hosts, curl --connect-to or an iptables REDIRECT. The traffic names its
// destination: a TLS ClientHello's SNI (port: the mode's origin port), or a plain-HTTP request's
// Host. From there it is a CONNECT tunnel like any other: the same hooks, --passthrough/--intercept
// rules (a passed-through TLS connection is piped without decrypting, like nginx's ssl_preread),
// recording and error answers.
import type { Socket } from 'node:net';
import { isMitmError, MitmError } from '../errors.js';
import { writeRawError } from '../exchange/error-response.js';
import type { FlowClient } from '../flow/flow.js';
import { normalizeHost, parseAuthority, type Target } from '../net/target.js';
import { peekClientHello } from '../tls/client-hello.js';
import { interceptTls } from '../tls/intercept-tls.js';
import { openTunnel, type TunnelReply } from './connect.js';
import { peekRequestHost } from './request-head.js';
import type { ProxyRuntime } from './runtime.js';

// First byte of a TLS record carrying a handshake message (RFC 8446 §5.1, content type 22).
const TLS_HANDSHAKE = 0x16;
const NO_BYTES = Buffer.alloc(0);

/** How a transparent listener finds origins: the port TLS connections go to (plain HTTP says its own, default 80). */
export interface TransparentMode {
  readonly originPort: number;
}

/** Serves one connection accepted by a transparent listener, its first bytes already waiting (paused). */
export function serveTransparent(rt: ProxyRuntime, mode: TransparentMode, socket: Socket, first: Buffer): void {
  const client: FlowClient = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, mode: 'transparent' };
  const tls = first[0] === TLS_HANDSHAKE;
  const refuse = (host: string | undefined, error: MitmError): void => {
    const code = tls ? 'client_tls' : error.code === 'headers_too_large' ? 'headers_too_large' : 'bad_request';
    rt.emit('client-issue', { host, client, code, message: error.message });
    if (tls) socket.destroy();
    else writeRawError(socket, error);
  };
  destination(socket, tls, mode).then(
    (target) => {
      // Our own listener, reached through itself: answered (508, proxy_loop) by the request
      // handler inside, never dialled, so no connection loops back into the proxy.
      if (rt.isSelf(target)) {
        if (tls) interceptTls(rt, socket, target, client);
        else rt.serveHttp(socket, { target, secure: false, servername: '', client });
        return;
      }
      openTunnel(rt, socket, NO_BYTES, target, client, tls ? TLS_REPLY : HTTP_REPLY);
    },
    (error: unknown) => refuse(undefined, isMitmError(error) ? error : new MitmError('bad_request', String(error))),
  );
}

// No CONNECT to answer: success says nothing; a refusal is an HTTP error where the client speaks
// plain HTTP, and a closed connection where it expects a TLS server.
const HTTP_REPLY: TunnelReply = { established: () => {}, refuse: (socket, error) => writeRawError(socket, error) };
const TLS_REPLY: TunnelReply = { established: () => {}, refuse: (socket) => socket.destroy() };

async function destination(socket: Socket, tls: boolean, mode: TransparentMode): Promise<Target> {
  if (tls) {
    const sni = (await peekClientHello(socket))?.servername;
    if (sni === undefined) throw new MitmError('bad_request', 'transparent mode: the connection did not start with a TLS ClientHello');
    if (sni === '') {
      throw new MitmError('bad_request', 'transparent mode: the ClientHello names no server (SNI), so its destination is unknown; refused');
    }
    return { host: normalizeHost(sni), port: mode.originPort };
  }
  const head = await peekRequestHost(socket);
  if (head === 'closed') throw new MitmError('bad_request', 'transparent mode: the client closed the connection before a request');
  if (head === 'too_large') throw new MitmError('headers_too_large', 'transparent mode: the request head is larger than 16 KiB');
  if (head.host === '')
    throw new MitmError('bad_request', 'transparent mode: the request has no Host header, so its destination is unknown; refused');
  return parseAuthority(head.host, 80);
}

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
import { formatAuthority, normalizeHost, parseAuthority, type Target } from '../net/target.js';
import { peekClientHello } from '../tls/client-hello.js';
import { terminateClientTls } from '../tls/client-tls.js';
import { caFileShown } from '../tls/intercept-tls.js';
import { describeHandshakeFailure } from '../tls/pinned-clients.js';
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
      // Our own listener, reached through itself: never dialled, so no connection loops back
      // into the proxy. Plain HTTP is answered (508, loop) by the request handler inside.
      if (rt.isSelf(target)) {
        if (tls) answerLoop(rt, socket, target, client, new MitmError('loop', `${formatAuthority(target)} is this proxy itself`));
        else rt.serveHttp(socket, { target, secure: false, servername: '', client });
        return;
      }
      openTunnel(rt, socket, NO_BYTES, target, client, tls ? tlsReply(rt, target, client) : HTTP_REPLY);
    },
    (error: unknown) => refuse(undefined, isMitmError(error) ? error : new MitmError('bad_request', String(error))),
  );
}

// No CONNECT to answer: success says nothing; a refusal is an HTTP error where the client speaks
// plain HTTP. Where it expects a TLS server, a loop (a name that resolves to one of our own
// listeners) is answered over TLS, and anything else closes the connection.
const HTTP_REPLY: TunnelReply = { established: () => {}, refuse: (socket, error) => writeRawError(socket, error) };

function tlsReply(rt: ProxyRuntime, target: Target, client: FlowClient): TunnelReply {
  return {
    established: () => {},
    refuse: (socket, error) => {
      if (error.code === 'loop') answerLoop(rt, socket, target, client, error);
      else socket.destroy();
    },
  };
}

/**
 * A TLS connection whose destination is the proxy itself: terminated with a leaf for its SNI, and
 * every request on it (HTTP/1.1 or HTTP/2, as ALPN chose) answered `error` (508, loop), never forwarded.
 */
function answerLoop(rt: ProxyRuntime, socket: Socket, target: Target, client: FlowClient, error: MitmError): void {
  terminateClientTls(socket, target.host, rt.certs, peekClientHello(socket)).then(
    ({ tlsSocket, servername }) => {
      rt.track(tlsSocket);
      rt.serveHttp(tlsSocket, { target, secure: true, servername, client, refusal: error });
    },
    (failure: unknown) => {
      socket.destroy();
      rt.emit('client-issue', {
        host: target.host,
        client,
        code: 'client_tls',
        message: describeHandshakeFailure(failure, caFileShown(rt.ca)),
      });
    },
  );
}

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

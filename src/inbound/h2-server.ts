// HTTP/2 towards clients. A decrypted tunnel whose client chose h2 in ALPN is served by one
// never-listening http2 server, the way start.ts feeds HTTP/1.1 connections to its http.Server:
// the socket is emitted as a connection, and each stream arrives as a compatibility-API request
// that goes to the same request handler, exchange and hooks as HTTP/1.1 requests.
import http2, { type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** Serves HTTP/2 on decrypted client sockets. */
export interface H2Front {
  /** Starts an HTTP/2 session on `socket`; `onSession` sees it before any of its requests. */
  serve(socket: TLSSocket, onSession: (session: ServerHttp2Session) => void): void;
}

// Streams one client may have open at once (RFC 9113 §6.5.2 recommends no fewer than 100).
const MAX_CONCURRENT_STREAMS = 256;

/** True when the client chose h2 during the TLS handshake. */
export function speaksH2(socket: Duplex): socket is TLSSocket {
  return (socket as Partial<TLSSocket>).alpnProtocol === 'h2';
}

/**
 * Creates the HTTP/2 front: `onRequest` handles every stream but CONNECT ones, which go to
 * `onConnect` (extended CONNECT, RFC 8441: WebSockets; SETTINGS_ENABLE_CONNECT_PROTOCOL is
 * advertised so that clients use it rather than a separate HTTP/1.1 connection); a session with
 * no streams for `idleMs` is closed gracefully (GOAWAY), like an idle HTTP/1.1 keep-alive connection.
 */
export function createH2Front(
  onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  idleMs: number,
  onConnect: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  limits: { readonly maxHeaderSize: number; readonly maxHeaders: number } = { maxHeaderSize: 16 * 1024, maxHeaders: 100 },
): H2Front {
  // --max-header-size and --max-headers as HTTP/2 knows them: an advertised SETTINGS_MAX_HEADER_LIST_SIZE,
  // and a cap on fields per block (pseudo-headers and Node's own count included, hence the margin).
  const server = http2.createServer({
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, enableConnectProtocol: true, maxHeaderListSize: limits.maxHeaderSize },
    maxHeaderListPairs: Math.max(4, limits.maxHeaders + 8),
  });
  server.on('request', onRequest);
  // The compatibility API emits CONNECT streams as 'connect' (405 when nobody listens).
  server.on('connect', onConnect);
  // A session that fails (the client sent a protocol error, or its connection was reset) is ended
  // by Node with GOAWAY, and each of its open streams was destroyed with the session's error
  // before this event: each flow records it from its stream (clientFailure in client-message.ts).
  server.on('sessionError', () => undefined);
  return {
    serve(socket, onSession) {
      // The listener keeps sockets half-open for HTTP/1.1 (a request, then FIN, then the answer).
      // An HTTP/2 client that sends FIN is gone: the socket must close, and with it the session and
      // its streams, so that their exchanges end and free their origin requests.
      socket.allowHalfOpen = false;
      const take = (session: ServerHttp2Session): void => {
        onSession(session);
        session.setTimeout(idleMs, () => session.close());
      };
      // The session is created synchronously inside emit('connection'); `once` catches exactly it.
      server.once('session', take);
      server.emit('connection', socket);
      server.off('session', take);
    },
  };
}

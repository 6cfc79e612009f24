// HTTP/2 towards clients. A decrypted tunnel whose client chose h2 in ALPN is served by one
// never-listening http2 server, the way start.ts feeds HTTP/1.1 connections to its http.Server:
// the socket is emitted as a connection, and each stream, taken with the core API (no
// compatibility-API objects), goes to the same request handler, exchange and hooks as HTTP/1.1
// requests as an H2Request and its H2Response.
import http2, { type Http2Stream, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { MitmError } from '../errors.js';
import { H2Request, H2Response } from '../exchange/h2-client.js';

/** Serves HTTP/2 on decrypted client sockets. */
export interface H2Front {
  /** Starts an HTTP/2 session on `socket`; `onSession` sees it before any of its requests. */
  serve(socket: TLSSocket, onSession: (session: ServerHttp2Session) => void): void;
}

// Streams one client may have open at once (RFC 9113 §6.5.2 recommends no fewer than 100).
const MAX_CONCURRENT_STREAMS = 256;
// How long a PING may go unanswered before the session counts as dead (Go's http2.Server
// PingTimeout is 15 s); never longer than the idle timeout itself.
const PING_TIMEOUT_MS = 10_000;

/** True when the client chose h2 during the TLS handshake. */
export function speaksH2(socket: Duplex): socket is TLSSocket {
  return (socket as Partial<TLSSocket>).alpnProtocol === 'h2';
}

/** What the HTTP/2 front hands requests to. */
export interface H2Handlers {
  /** Every stream but CONNECT ones. */
  readonly onRequest: (req: H2Request, res: H2Response) => void;
  /** CONNECT streams: extended CONNECT (RFC 8441), WebSockets. */
  readonly onConnect: (req: H2Request, res: H2Response) => void;
  /** A request whose header section is over the limits (a `headers_too_large` error to answer with). */
  readonly onTooLarge: (req: H2Request, res: H2Response, failure: MitmError) => void;
}

/** The per-connection limits the HTTP/2 front applies (README "Limits"). */
export interface H2Limits {
  /** A session with no traffic this long is closed, or checked with a PING (`watchLiveness`). */
  readonly idleMs: number;
  /** --max-header-size: the most a request's header section may count, as HTTP/2 counts it. */
  readonly maxHeaderSize: number;
  /** --max-headers: the most header fields a request may have (pseudo-header fields not counted). */
  readonly maxHeaders: number;
}

/**
 * Creates the HTTP/2 front: requests go to `handlers` (extended CONNECT is advertised with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL so that clients use it for WebSockets rather than a separate
 * HTTP/1.1 connection); a session with no streams for `idleMs` is closed gracefully (GOAWAY),
 * like an idle HTTP/1.1 keep-alive connection; one quiet that long with streams open must answer a
 * PING (see `watchLiveness`).
 *
 * Header limits: nghttp2 and Node refuse a header section before any JavaScript sees it (the
 * stream is reset with ENHANCE_YOUR_CALM, no response possible) beyond the advertised
 * SETTINGS_MAX_HEADER_LIST_SIZE and `maxHeaderListPairs`. Those hard caps are set well above
 * --max-header-size and --max-headers (`hardHeaderLimits`), so that a request over our limits but
 * under them is seen here and answered with a readable 431 `headers_too_large`, as HTTP/1.1 is.
 */
export function createH2Front(handlers: H2Handlers, limits: H2Limits): H2Front {
  const hard = hardHeaderLimits(limits);
  const server = http2.createServer({
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, enableConnectProtocol: true, maxHeaderListSize: hard.listSize },
    maxHeaderListPairs: hard.pairs,
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    // A stream's errors are read from the stream where they matter (clientFailure in
    // client-message.ts); one nobody else listens for must not take the process down.
    stream.on('error', ignore);
    const req = new H2Request(stream, headers, rawHeaders);
    const res = new H2Response(req);
    const failure = headersTooLarge(rawHeaders, limits);
    if (failure !== undefined) handlers.onTooLarge(req, res, failure);
    else if (req.method === 'CONNECT') handlers.onConnect(req, res);
    else if (expectationMet(headers.expect, res)) handlers.onRequest(req, res);
  });
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
        watchLiveness(session, socket, limits.idleMs);
      };
      // The session is created synchronously inside emit('connection'); `once` catches exactly it.
      server.once('session', take);
      server.emit('connection', socket);
      server.off('session', take);
    },
  };
}

/**
 * The caps nghttp2 and Node enforce before JavaScript sees a request: twice our limits, and never
 * below Node's defaults (64 KiB, which also applies before the client has acknowledged our
 * SETTINGS, and 128 fields).
 */
function hardHeaderLimits(limits: Pick<H2Limits, 'maxHeaderSize' | 'maxHeaders'>): { listSize: number; pairs: number } {
  return {
    listSize: Math.max(65_535, 2 * limits.maxHeaderSize),
    // Node counts pseudo-header fields too.
    pairs: Math.max(128, 2 * limits.maxHeaders + 8),
  };
}

/**
 * `headers_too_large` when a request is over --max-header-size or --max-headers. The size is the
 * one HTTP/2 defines for SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2): every field's name and
 * value in octets plus 32, pseudo-header fields included.
 */
function headersTooLarge(raw: readonly string[], limits: Pick<H2Limits, 'maxHeaderSize' | 'maxHeaders'>): MitmError | undefined {
  let size = 0;
  let fields = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    size += Buffer.byteLength(name) + Buffer.byteLength(raw[i + 1] ?? '') + 32;
    if (!name.startsWith(':')) fields += 1;
  }
  if (size > limits.maxHeaderSize)
    return new MitmError(
      'headers_too_large',
      `request header fields too large (${size} bytes as HTTP/2 counts them; the limit is ${limits.maxHeaderSize} bytes, --max-header-size)`,
    );
  if (fields > limits.maxHeaders)
    return new MitmError('headers_too_large', `more than ${limits.maxHeaders} request header fields (--max-headers)`);
  return undefined;
}

function ignore(): void {}

/**
 * An Expect field as Node's compatibility API answered it, so that clients see what they saw
 * before: `100-continue` gets its 100 at once and the request goes on; any other expectation is
 * answered 417 (RFC 9110 §10.1.1). False when the request was answered.
 */
function expectationMet(expect: string | undefined, res: H2Response): boolean {
  if (expect === undefined) return true;
  if (expect.toLowerCase() === '100-continue') {
    res.stream.additionalHeaders({ ':status': 100 });
    return true;
  }
  res.statusCode = 417;
  res.end();
  return false;
}

/**
 * The idle timeout in every state of a session. Quiet for `idleMs` with no stream open: closed
 * gracefully (GOAWAY), destroyed if that does not finish within the PING timeout. Quiet that long with streams open (a long poll, or a dead peer): a PING,
 * and the session and its socket are destroyed unless the ACK comes back within the PING timeout.
 * Why a PING and not the socket's end: once nghttp2 has answered a protocol error with GOAWAY it
 * wants no more input, and Node then stops reading the socket without telling JavaScript (no
 * 'error', no 'close'; node_http2.cc MaybeStopReading), so the client's FIN is never seen and
 * streams still waiting for a request body would hold the connection forever (the fuzzer's
 * leak, docs/reliability.md). RFC 9113 §5.4.1: after a GOAWAY for an error, close the connection.
 */
function watchLiveness(session: ServerHttp2Session, socket: TLSSocket, idleMs: number): void {
  let open = 0;
  session.on('stream', (stream: Http2Stream) => {
    open += 1;
    stream.once('close', () => {
      open -= 1;
    });
  });
  let deadline: NodeJS.Timeout | undefined;
  const kill = (): void => {
    session.destroy();
    socket.destroy();
  };
  session.once('close', () => clearTimeout(deadline));
  // Node adds a callback given to setTimeout with once(): one listener, re-armed after each check.
  session.on('timeout', () => {
    if (session.destroyed) return;
    clearTimeout(deadline);
    // Whatever the peer does next, the session is gone by then.
    deadline = setTimeout(kill, Math.min(PING_TIMEOUT_MS, idleMs)).unref();
    if (open === 0) {
      session.close();
      return;
    }
    const sent = session.ping((error) => {
      clearTimeout(deadline);
      if (error) kill();
      // Alive: quiet for another idleMs before the next check.
      else session.setTimeout(idleMs);
    });
    if (!sent) kill();
  });
  session.setTimeout(idleMs);
}

// HTTP/1.1 requests to TLS origins through undici's Pool (llhttp in WebAssembly): about 40 % less
// CPU per request than https.request with a keep-alive Agent (`node --import tsx
// bench/origin-clients.ts`). undici refuses some request shapes that a proxy must pass on (chunked
// bodies, which may carry trailers, and Expect or Upgrade fields); those keep going through the
// Node agent (h1-origin.ts). Connections still come from the upstream's own connector.
// The reference brings the Pool module's declaration into any program that compiles this file
// (a user's tsc following `mitm` into src/, as the mocks-export test does).
/// <reference path="./undici-pool.d.ts" />
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher, Pool as PoolInstance } from 'undici';
// undici's Pool and what it needs (its client, llhttp), not its index: the index also loads fetch,
// WebSocket, the cache and the mocks, ~800 KB that a proxy's warm-up, and the exit of a short
// `mitm run`, would wait for (docs/performance.md, "Start-up"). Requests go through dispatch(),
// which needs none of the API methods the index adds to Dispatcher.
import Pool from 'undici/lib/dispatcher/pool.js';
import type { OriginConnectionFacts } from '../flow/flow.js';
import { TLS_BUFFERING } from '../net/buffers.js';
import type { OriginCall, OriginRequest, OriginResponse } from './origin-call.js';
import { claimConnection } from './origin-connection.js';

// Request fields undici will not send as given (it throws), and which only requests outside the
// fast path carry: chunked framing, Expect: 100-continue, upgrades.
const REFUSED_FIELDS = new Set(['transfer-encoding', 'expect', 'upgrade', 'keep-alive', 'te']);

/** True when undici can carry `request` exactly as the Node agent would. */
export function fitsUndici(request: OriginRequest): boolean {
  const { headers } = request;
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    if (REFUSED_FIELDS.has(name)) return false;
    if (name === 'connection' && !/^(close|keep-alive)$/i.test(headers[i + 1] as string)) return false;
  }
  return true;
}

// Which connection carries a request: undici does not tell its handlers, but it calls a request's
// onConnect and then publishes 'undici:client:sendHeaders' with the socket it writes that request
// on, in one synchronous run (client-h1.js writeH1). So onConnect leaves its claim here, and the
// publication right after hands it the socket. A request aborted in between leaves a stale claim,
// which the next onConnect replaces; a socket of another undici user is not in our pool, and ignored.
let awaitingSocket: ((socket: Socket) => void) | undefined;
let listening = false;

function listenForSockets(): void {
  if (listening) return;
  listening = true;
  subscribe('undici:client:sendHeaders', (message) => {
    const claim = awaitingSocket;
    awaitingSocket = undefined;
    const socket = (message as { socket?: Socket }).socket;
    if (claim && socket) claim(socket);
  });
}

/** An undici pool and the sockets it was given. */
export interface UndiciPool {
  readonly pool: PoolInstance;
  readonly sockets: WeakSet<Socket>;
}

/** A pool of HTTP/1.1 connections to one TLS origin, opened by `open` (spares, then new handshakes). */
export function createUndiciPool(
  authority: string,
  options: { readonly connections: number; readonly idleMs: number; readonly open: () => Promise<TLSSocket> },
): UndiciPool {
  listenForSockets();
  const sockets = new WeakSet<Socket>();
  const pool = new Pool(`https://${authority}`, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: options.idleMs,
    keepAliveMaxTimeout: options.idleMs,
    // The exchange polices the origin's time (exchange.ts): no second clock here.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: (_opts, callback) => {
      options.open().then(
        (socket) => {
          sockets.add(socket);
          readRecordByRecord(socket);
          callback(null, socket);
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
      );
    },
  });
  return { pool, sockets };
}

// The most plaintext one TLS record carries (RFC 8446 §5.1): what the socket buffers per read.
const TLS_RECORD = 16 * 1024;

/**
 * undici reads its socket with `read()`, which joins everything buffered (up to the socket's
 * 256 KiB high-water mark) into one new Buffer before its parser copies it into WebAssembly
 * memory: a copy of every body byte, and an ArrayBuffer as large as the buffer left for the
 * garbage collector. Asked for at most a record's worth, the socket hands over the buffered
 * records themselves, uncopied (docs/performance.md, "Download memory"). undici sees the same
 * bytes in the same order, in pieces, which its parser takes as they come.
 */
function readRecordByRecord(socket: TLSSocket): void {
  const read = socket.read.bind(socket);
  // read() as such when a record or less is buffered: read(0) would mean something else.
  socket.read = (size?: number) => read(size ?? (socket.readableLength > TLS_RECORD ? TLS_RECORD : undefined));
}

/** Sends `request` on `fast`'s pool; the response body is a stream with backpressure onto the origin socket. */
export function undiciCall(fast: UndiciPool, request: OriginRequest): OriginCall {
  let connection: OriginConnectionFacts | undefined;
  let abort: ((error?: Error) => void) | undefined;
  let abandoned: Error | undefined;
  let body: Readable | undefined;
  let resume: (() => void) | undefined;
  let trailers: string[] = [];
  let resolveHead: (response: OriginResponse) => void = () => undefined;
  let rejectHead: (error: Error) => void = () => undefined;
  const response = new Promise<OriginResponse>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  response.catch(() => undefined);

  const handler: Dispatcher.DispatchHandlers = {
    onConnect(abortRequest) {
      abort = abortRequest;
      awaitingSocket = (socket) => {
        if (fast.sockets.has(socket)) connection = claimConnection(socket, socket, 0);
      };
      if (abandoned) abortRequest(abandoned);
    },
    onHeaders(status, rawHeaders, resumeReading, statusText) {
      // An interim (1xx) head: undici sends no Expect, so 100 never comes (it fails the request then).
      if (status < 200) {
        request.onInterim({ status, rawHeaders: (rawHeaders ?? []).map((field) => field.toString('latin1')) });
        return true;
      }
      resume = resumeReading;
      if (connection) request.onConnection(connection);
      body = new Readable({ ...TLS_BUFFERING, read: () => resume?.() });
      resolveHead({
        status,
        statusMessage: statusText,
        rawHeaders: (rawHeaders ?? []).map((field) => field.toString('latin1')),
        httpVersion: '1.1',
        body,
        trailers: () => trailers,
        headOnly: false,
      });
      return true;
    },
    onData(chunk) {
      return body?.push(chunk) ?? false;
    },
    onComplete(raw) {
      trailers = (raw ?? []).map((field) => (typeof field === 'string' ? field : Buffer.from(field).toString('latin1')));
      body?.push(null);
    },
    onError(error) {
      if (body) body.destroy(error);
      else rejectHead(error);
    },
  };
  const { body: outgoing } = request;
  // undici reads the body once it has a connection, later than this turn: until then the stream
  // must not flow, or the listeners already on it (recording, the upload timer) would take the
  // bytes past undici. It resumes the stream itself when it starts writing.
  if (outgoing.kind === 'stream' && !request.bodyless) outgoing.stream.pause();
  fast.pool.dispatch(
    {
      path: request.path,
      // Any token: undici checks the syntax only, as Node does (WebDAV and custom methods pass).
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: outgoing.kind === 'bytes' ? outgoing.data : request.bodyless ? null : outgoing.stream,
    },
    handler,
  );
  // A stream body left unread (bodyless) must still reach its end, as the agent path reads it.
  if (outgoing.kind === 'stream' && request.bodyless) outgoing.stream.resume();
  return {
    response,
    destroy: (error) => {
      abandoned = error ?? new Error('the request was abandoned');
      if (abort) abort(abandoned);
      if (body) body.destroy(error);
      else rejectHead(abandoned);
    },
  };
}

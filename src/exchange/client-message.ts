/**
 * The client side of an exchange, whichever protocol the client spoke: a request Node's HTTP/1.x
 * parser produced, or a stream of an HTTP/2 session on the core API (h2-client.ts). The request
 * handler, the exchange and the error responses take either; the few places where the two differ
 * (pseudo-headers, status text, connection-specific fields, trailers) live here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants } from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { h2FromRaw, rawFromH2 } from '../flow/h2-headers.js';
import { H2Request, H2Response } from './h2-client.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_STREAM_CLOSED } = http2Constants;

/** A request as the client sent it. */
export type InboundRequest = IncomingMessage | H2Request;

/** The response going back to that client. */
export type OutboundResponse = ServerResponse | H2Response;

/** True when the request is a stream of an HTTP/2 session. */
export function isH2Request(req: InboundRequest): req is H2Request {
  return req instanceof H2Request;
}

/** Where the request body is read from: the message itself for HTTP/1.x, the stream for HTTP/2. */
export function requestBody(req: InboundRequest): Readable {
  return isH2Request(req) ? req.body() : req;
}

/**
 * The object that stands for the client connection: the socket for HTTP/1.x, the session for
 * HTTP/2 (whose `req.socket` is a per-stream proxy object, so it cannot key per-connection state).
 */
export function connectionOf(req: InboundRequest): object {
  return isH2Request(req) ? (req.stream.session ?? req.socket) : req.socket;
}

/** The request's header fields as a raw list: for HTTP/2 without pseudo-headers, cookie crumbs joined. */
export function requestRawHeaders(req: InboundRequest): string[] {
  return isH2Request(req) ? rawFromH2(req.rawHeaders) : [...req.rawHeaders];
}

/** True when the request has no body at all (HTTP/2: END_STREAM on its HEADERS; HTTP/1.1: no framing, or a zero length). */
export function hasNoBody(req: InboundRequest): boolean {
  if (isH2Request(req)) return req.stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/**
 * True when the body's length was not declared up front: chunked in HTTP/1.1, or an HTTP/2 body
 * (HTTP/2 frames carry their own lengths, so the origin hop may need chunked framing instead).
 */
export function hasOpenEndedBody(req: InboundRequest): boolean {
  if (isH2Request(req)) return !req.stream.endAfterHeaders && req.headers['content-length'] === undefined;
  return req.headers['transfer-encoding'] !== undefined;
}

/** The request's trailer fields as a raw list, once its body has ended. */
export function requestTrailers(req: InboundRequest): string[] {
  return [...req.rawTrailers];
}

/**
 * Sends the response head and returns where its body goes: the response itself for HTTP/1.x; for
 * HTTP/2 the stream. Node's compatibility API asked for trailers on every response, so its
 * END_STREAM always followed the body in a DATA frame of its own; curl (multiplexing) had often
 * finished the stream by then and reset it, which cost both hops a RST_STREAM for half of the
 * streams (docs/performance.md). Here the last DATA frame ends the stream unless `trailers` says
 * trailer fields may follow (`addResponseTrailers` queues them on the response, which sends them
 * when the stream asks). A Date field is added as `res.sendDate` says, for either protocol.
 */
export function openResponseBody(
  res: OutboundResponse,
  status: number,
  statusMessage: string | undefined,
  raw: string[],
  trailers: boolean,
): Writable {
  if (!isH2Response(res)) {
    // A connection that will end after this answer says so (endOnceAnswered), or clients reuse it.
    const head = endsUnreadUpload.has(res) && !res.req.complete ? [...raw, 'Connection', 'close'] : raw;
    if (statusMessage) res.writeHead(status, statusMessage, head);
    else res.writeHead(status, head);
    return res;
  }
  // HTTP/2 has no status text (RFC 9113 §8.3.2) and no connection-specific fields (§8.2.2).
  res.writeHead(status, h2FromRaw(raw), trailers);
  return res.stream;
}

/**
 * Passes an origin's `103 Early Hints` on ahead of its answer (other interim heads are not: 100
 * Continue is each hop's own, 102 is obsolete). HTTP/2: an extra HEADERS block on the stream;
 * HTTP/1.1: Node's writeEarlyHints, which writes only Link values of the form it checks (those it
 * refuses are left out) and nothing without one. Never to an HTTP/1.0 client (RFC 9110 §15.2), nor
 * once the answer's head is out. Hints are advice: one that cannot be sent is dropped.
 */
export function sendEarlyHints(res: OutboundResponse, status: number, raw: readonly string[]): void {
  if (status !== 103 || res.headersSent) return;
  try {
    if (isH2Response(res)) {
      if (!res.stream.destroyed && !res.stream.closed) res.stream.additionalHeaders({ ...h2FromRaw(raw), ':status': 103 });
      return;
    }
    if (res.writableEnded || res.destroyed || res.req.httpVersion === '1.0') return;
    const hints: Record<string, string | string[]> = {};
    const links: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      const value = raw[i + 1] as string;
      if (name === 'link') links.push(...splitLinks(value).filter((link) => NODE_LINK.test(link)));
      else hints[name] = hints[name] === undefined ? value : `${String(hints[name])}, ${value}`;
    }
    if (links.length > 0) res.writeEarlyHints({ ...hints, link: links });
  } catch {
    // A field Node refuses (HTTP/2 validates each): the answer follows without the hints.
  }
}

/** The link-values of a Link field (RFC 8288 §3), split at the commas outside <…> and quotes. */
function splitLinks(value: string): string[] {
  const links: string[] = [];
  let start = 0;
  let inUri = false;
  let inQuote = false;
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i];
    if (inQuote) {
      if (char === '\\') i += 1;
      else if (char === '"') inQuote = false;
    } else if (char === '"') inQuote = true;
    else if (char === '<') inUri = true;
    else if (char === '>') inUri = false;
    else if (char === ',' && !inUri) {
      links.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  links.push(value.slice(start).trim());
  return links.filter((link) => link !== '');
}

// A subset of the link-value form Node's writeEarlyHints accepts (its validateLinkHeaderValue),
// checked first so that one value Node refuses does not cost the others. Not Node's own pattern:
// it lets a parameter name hold '=', so refusing `<a>;a=b=c;a=b=c…"` backtracks exponentially
// (seconds at 100 bytes, the whole proxy stalled by one origin's 103). Here a name holds no '=' and
// a value is quoted or not, one way to match each character: linear, and Node's pattern matches
// what this one accepts at once.
const NODE_LINK = /^<[^>]*>(?:\s*;\s*[^;"\s=]+(?:=(?:"[^;"\s]*"|[^;"\s]*))?)*$/;

/**
 * True when an HTTP/2 response can have no body, so that Node ends its stream with the head (RFC
 * 9110 §6.4.1: an answer to HEAD, 204, 205 and 304): it must then go through `endWithHead`.
 */
export function bodilessH2(res: H2Response, status: number): boolean {
  return res.req.method === 'HEAD' || status === 204 || status === 205 || status === 304;
}

/** Answers an HTTP/2 client with a head alone: one HEADERS frame that also ends the stream. */
export function endWithHead(res: H2Response, status: number, raw: string[]): void {
  res.endWithHead(status, h2FromRaw(raw));
}

/** Queues trailer fields to go after the body (HTTP/1.1: only sent when the body is chunked). */
export function addResponseTrailers(res: OutboundResponse, raw: readonly string[]): void {
  if (raw.length === 0) return;
  if (isH2Response(res)) {
    res.addTrailers(h2FromRaw(raw));
    return;
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  res.addTrailers(pairs);
}

/**
 * True once the whole response went out; false when the client left (or reset the stream) first.
 * `sent` is what went into the body so far against the length its head declared, if any.
 */
export function responseCompleted(
  res: OutboundResponse,
  sent?: { readonly bytes: number; readonly declared: number | undefined },
): boolean {
  if (!isH2Response(res)) return res.writableFinished;
  // A stream the client reset may still count as written to its end.
  const code = res.stream.rstCode ?? NGHTTP2_NO_ERROR;
  if (code === NGHTTP2_NO_ERROR) return res.stream.writableEnded;
  // curl resets a stream with STREAM_CLOSED as soon as it holds the declared length, which can be
  // before the END_STREAM that follows the last DATA frame reaches it: it had the whole answer.
  return code === NGHTTP2_STREAM_CLOSED && sent?.declared !== undefined && sent.bytes >= sent.declared;
}

/**
 * The error the client's side failed with, if any. For HTTP/2 that is the stream's: a session that
 * fails (a protocol error, a reset connection: the server's 'sessionError') destroys each of its
 * streams with its error before their responses close.
 */
export function clientFailure(res: OutboundResponse): Error | undefined {
  return isH2Response(res) ? (res.stream.errored ?? undefined) : undefined;
}

/**
 * When the whole answer has gone out while the client is still uploading (an origin that answered
 * before reading: 401, 413), nothing reads the rest of the upload: the origin stopped, and
 * backpressure (HTTP/2: flow control) then holds the client, which waits forever. HTTP/2: the
 * stream is closed with NO_ERROR once the answer is on its way, as RFC 9113 §8.1 allows and Node's
 * server does for a stream it answered unread; `abandon` runs first, to free the origin's side.
 * HTTP/1.x: the connection cannot be reused before the upload's last byte, which may never come, so
 * it is closed (endOnceAnswered).
 */
export function closeUploadOnceAnswered(req: InboundRequest, res: OutboundResponse, abandon: () => void, lingerMs: number): void {
  if (hasNoBody(req)) return;
  if (!isH2Request(req)) {
    if (!isH2Response(res)) endOnceAnswered(req, res, abandon, lingerMs);
    return;
  }
  const stream = req.stream;
  stream.once('finish', () => {
    // END_STREAM from the client: the upload is all here, read or not.
    if (stream.state.remoteClose === 1) return;
    abandon();
    setImmediate(() => {
      if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_NO_ERROR);
    });
  });
}

/** HTTP/1.x responses after which the connection ends if the upload is still arriving (endOnceAnswered). */
const endsUnreadUpload = new WeakSet<ServerResponse>();

/**
 * The HTTP/1.x side of closeUploadOnceAnswered. An answer whose head goes out with the upload still
 * arriving says `Connection: close` (clients would otherwise try to reuse the connection); once it
 * is written with the upload still arriving, our side of the connection ends (FIN) and the rest of
 * the upload is read and dropped, as Node's server drops a body it answered unread, so that the
 * client's close is seen at once; the connection goes when the client closes it, or after
 * `lingerMs`. Not closed at once: a close over unread bytes resets the connection (RFC 9112 §9.6),
 * which can cost the client the answer. The origin's side is abandoned only then: a torn-down
 * origin call destroys the request stream, which would stop the reading.
 */
function endOnceAnswered(req: IncomingMessage, res: ServerResponse, abandon: () => void, lingerMs: number): void {
  const socket = req.socket;
  endsUnreadUpload.add(res);
  res.once('finish', () => {
    if (req.complete) return;
    // The head said `Connection: close` (openResponseBody; error answers too), so Node's server has
    // just asked to destroy the socket once our FIN is out (destroySoon), over the unread upload:
    // the linger below takes its place.
    socket.removeListener('finish', socket.destroy);
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      abandon();
    });
    socket.end();
    // Whatever was reading the upload (the pipe to the origin, undici's writer, the recording)
    // lets go of it; the upload then flows to nowhere.
    req.unpipe();
    req.removeAllListeners('data');
    req.resume();
  });
}

/** True when nothing can be sent to the client any more. */
export function clientGone(res: OutboundResponse): boolean {
  return isH2Response(res) ? res.stream.destroyed || res.stream.closed : res.destroyed;
}

/** True when the response goes to an HTTP/2 client. */
export function isH2Response(res: OutboundResponse): res is H2Response {
  return res instanceof H2Response;
}

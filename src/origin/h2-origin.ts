// One request to an HTTP/2 origin: a stream on a pooled session. The request body is piped into
// the stream and the response body read from it, so HTTP/2 flow control carries backpressure:
// a stream nobody reads stops sending WINDOW_UPDATEs, and the origin pauses.
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { MitmError } from '../errors.js';
import { h2FromRaw, h2RequestHeaders, withoutPseudoHeaders } from '../flow/h2-headers.js';
import { claimConnection } from './origin-connection.js';
import { failed, type OriginCall, type OriginRequest, type OriginResponse } from './origin-call.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

// Failures of requests the origin never processed (RFC 9113 §8.7): safe to send again elsewhere.
const unprocessed = new WeakSet<object>();
const SESSION_GONE = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION']);

/** Sends `request` as a new stream on `session`; `track` counts the stream against the session. */
export function h2Call(session: ClientHttp2Session, request: OriginRequest, track: (stream: ClientHttp2Stream) => void): OriginCall {
  const { body } = request;
  // Trailers are known up front for a body that was read whole; a streamed one may still bring some.
  const knownTrailers = body.kind === 'bytes' ? request.trailers() : [];
  const endStream = request.bodyless || (body.kind === 'bytes' && body.data.length === 0 && knownTrailers.length === 0);
  const waitForTrailers = !endStream && (body.kind === 'stream' || knownTrailers.length > 0);
  let stream: ClientHttp2Stream;
  try {
    stream = session.request(h2RequestHeaders(request.method, request.path, request.headers, request.trailersAccepted), {
      endStream,
      waitForTrailers,
    });
  } catch (error) {
    // The session went away (GOAWAY, closed) between being picked and being used.
    if (SESSION_GONE.has((error as NodeJS.ErrnoException).code ?? '')) return failed(markUnprocessed(error));
    // Node validates the block here: a field a hook set that HTTP/2 cannot carry (a bad name or value).
    return failed(new MitmError('hook_failed', `the request cannot be sent over HTTP/2: ${String(error)}`, { cause: error }));
  }
  track(stream);
  request.onConnection(claimConnection(session, session.socket, 0));

  let trailers: string[] = [];
  let answered = false;
  const response = new Promise<OriginResponse>((resolve, reject) => {
    // REFUSED_STREAM: the origin (or Node, for streams beyond a GOAWAY's last stream id) did not
    // process the request.
    const refused = (error: Error): Error => (stream.rstCode === NGHTTP2_REFUSED_STREAM ? markUnprocessed(error) : error);
    stream.on('error', (error) => reject(refused(error)));
    stream.once('close', () => {
      // Every stream closes; only one closed before its answer needs an error (an Error costs its stack trace).
      if (answered) return;
      const error = new Error(`the origin closed the HTTP/2 stream (error code ${stream.rstCode ?? 0}) before answering`);
      reject(refused(Object.assign(error, { code: 'ERR_HTTP2_STREAM_ERROR' })));
    });
    // Node hands out each block as a flat list too, in the order received.
    stream.once('trailers', (_fields: unknown, _flags: number, raw: string[]) => {
      trailers = withoutPseudoHeaders(raw);
    });
    // Node gives interim (1xx) blocks as 'headers' before 'response' (100 Continue, too).
    stream.on('headers', (_fields: unknown, _flags: number, raw: string[]) => {
      const status = statusOf(raw);
      if (status > 100 && status < 200) request.onInterim({ status, rawHeaders: withoutPseudoHeaders(raw) });
    });
    stream.once('response', (_fields: unknown, flags: number, raw: string[]) => {
      answered = true;
      resolve({
        status: statusOf(raw),
        statusMessage: undefined,
        rawHeaders: withoutPseudoHeaders(raw),
        httpVersion: '2.0',
        body: stream,
        trailers: () => trailers,
        headOnly: (flags & NGHTTP2_FLAG_END_STREAM) !== 0,
      });
    });
  });
  // The call's user may look only at the body from here on; a late stream error must not go unhandled.
  response.catch(() => undefined);

  if (waitForTrailers) {
    // An empty set makes Node end the stream with an empty DATA frame instead of a trailer block.
    stream.once('wantTrailers', () => stream.sendTrailers(h2FromRaw(body.kind === 'bytes' ? knownTrailers : request.trailers())));
  }
  if (endStream) {
    if (body.kind === 'stream') body.stream.resume();
  } else if (body.kind === 'bytes') {
    stream.end(body.data);
  } else {
    body.stream.pipe(stream);
  }
  return {
    response,
    destroy(error) {
      if (error) stream.destroy(error);
      else if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    },
  };
}

/** The :status of a raw header block; 502 when it has none. */
function statusOf(raw: readonly string[]): number {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i] === ':status') return Number(raw[i + 1]);
  return 502;
}

/** True when `error` ended a request the origin never processed, so that it may be sent again. */
export function wasUnprocessed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && unprocessed.has(error);
}

function markUnprocessed(error: unknown): Error {
  const marked = error instanceof Error ? error : new Error(String(error));
  unprocessed.add(marked);
  return marked;
}

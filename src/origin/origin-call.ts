// A request to an origin as the exchange sees it, whichever protocol carries it (h1-origin.ts,
// h2-origin.ts), and the combinators upstream.ts builds calls with: one still waiting for its
// connection, one that may go again after a refusal, one that failed before it started.
import type { Readable } from 'node:stream';
import type { OutgoingBody } from '../flow/body.js';
import type { OriginConnectionFacts } from '../flow/flow.js';

/** One request for an origin, whichever protocol carries it. */
export interface OriginRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Flat raw header list, Host included, framing already restated (framing.ts). */
  readonly headers: string[];
  readonly body: OutgoingBody;
  /** The request has no body at all; an HTTP/2 stream then ends with its HEADERS frame. */
  readonly bodyless: boolean;
  /** The request's trailer fields (raw list), read once the body has ended. */
  readonly trailers: () => readonly string[];
  /** The client sent `TE: trailers`: passed on to HTTP/2 origins (the gRPC protocol requires it). */
  readonly trailersAccepted: boolean;
  /** Told the connection carrying the request (its address, TLS facts, times) once it is known (origin-connection.ts). */
  readonly onConnection: (connection: OriginConnectionFacts) => void;
  /** Told each interim head the origin sends before its answer, but 100 Continue and 101 (103 Early Hints, 102). */
  readonly onInterim: (head: InterimResponse) => void;
}

/** An interim (1xx) response head. */
export interface InterimResponse {
  readonly status: number;
  /** Its fields as a flat raw list (HTTP/2: without pseudo-headers). */
  readonly rawHeaders: readonly string[];
}

/** An origin's response head and its body stream. */
export interface OriginResponse {
  readonly status: number;
  /** The reason phrase; HTTP/2 has none. */
  readonly statusMessage: string | undefined;
  readonly rawHeaders: readonly string[];
  /** '1.1' or '2.0'. */
  readonly httpVersion: string;
  readonly body: Readable;
  /** Trailer fields (raw list), complete once `body` has ended. */
  readonly trailers: () => readonly string[];
  /** The origin ended the response with its head (HTTP/2 END_STREAM): no body, no trailers. */
  readonly headOnly: boolean;
}

/** A request under way. */
export interface OriginCall {
  /** The response head; rejects with the Node/OpenSSL error (classified by upstream-error.ts) or a MitmError. */
  readonly response: Promise<OriginResponse>;
  /** Abandons the request and frees its connection or stream; `error` becomes the rejection when the head has not come. */
  destroy(error?: Error): void;
}

/**
 * A call for `request` whose connection (or code) is still being made: destroying it early rejects
 * at once and drops what arrives later.
 */
export function deferred(request: OriginRequest, making: Promise<() => OriginCall>): OriginCall {
  // Listeners the caller attached (recording, timers) would set a stream body flowing before
  // anything reads it for the origin, and the origin would get it empty: hold it until the call
  // starts (what sends it resumes it).
  if (request.body.kind === 'stream') request.body.stream.pause();
  let call: OriginCall | undefined;
  let abandoned: Error | undefined;
  let reject: (error: Error) => void = () => undefined;
  const response = new Promise<OriginResponse>((resolve, fail) => {
    reject = fail;
    making.then((start) => {
      if (abandoned) return;
      call = start();
      call.response.then(resolve, fail);
    }, fail);
  });
  response.catch(() => undefined);
  return {
    response,
    destroy(error) {
      if (call) {
        call.destroy(error);
        return;
      }
      abandoned = error ?? new Error('the request was abandoned');
      reject(abandoned);
    },
  };
}

/** A call that, should `first` fail, goes on as the call `retry` makes for that error (undefined: give up). */
export function recover(first: OriginCall, retry: (error: unknown) => OriginCall | undefined): OriginCall {
  let current = first;
  const response = first.response.catch((error: unknown) => {
    const next = retry(error);
    if (!next) throw error;
    current = next;
    return next.response;
  });
  response.catch(() => undefined);
  return { response, destroy: (error) => current.destroy(error) };
}

/** A call that failed before it started. */
export function failed(error: Error): OriginCall {
  const response = Promise.reject(error);
  response.catch(() => undefined);
  return { response, destroy: () => undefined };
}

import type { FlowRecord } from '../../events.js';
import type { FlowTls } from '../../flow/tls-facts.js';

/**
 * What a filter looks at: one flow as plain data. Anything a source does not know is undefined,
 * and a term on it does not match (so its negation does). Bodies are getters, called only when
 * a `req:`/`res:` term is reached, so a store can load them lazily.
 */
export interface FilterSubject {
  readonly method: string;
  /** Absolute URL; free text searches it. */
  readonly url: string;
  /** Host name without port, lower-case (`urlParts`). */
  readonly host: string;
  /** The URL's path without the query (`urlParts`). */
  readonly path: string;
  /** Status sent to the client; undefined when no response head went out. */
  readonly status: number | undefined;
  /** The response's Content-Type as sent (parameters allowed). */
  readonly contentType: string | undefined;
  /** Raw header lists, `[name, value, name, value, …]` as Node's rawHeaders; undefined when not kept. */
  readonly requestHeaders: readonly string[] | undefined;
  readonly responseHeaders: readonly string[] | undefined;
  /** The decoded request body as text; undefined when absent, not kept or not text. */
  readonly requestBody?: (() => string | undefined) | undefined;
  /** The decoded response body as text; undefined when absent, not kept or not text. */
  readonly responseBody?: (() => string | undefined) | undefined;
  /** Response body bytes sent to the client. */
  readonly responseSize: number | undefined;
  /** From the request's arrival to the last response byte. */
  readonly durationMs: number | undefined;
  /** The error code (docs/errors.md, or `aborted`) when the exchange failed. */
  readonly errorCode: string | undefined;
  /** The kind of listener the flow came through: `regular`, `transparent`, `reverse`, `dns`… */
  readonly mode: string | undefined;
  /** The proxy user the client authenticated as (`--proxy-auth`). */
  readonly user: string | undefined;
  /** The server name the client sent in its TLS handshake (else the one we sent the origin); undefined without TLS. */
  readonly sni?: string | undefined;
  readonly isWebSocket: boolean;
  /** True for an event stream (`text/event-stream`). */
  readonly isSse: boolean;
}

/** The host (lower-case, no port, no IPv6 brackets) and path (no query) of an absolute URL; empty strings when it does not parse. */
export function urlParts(url: string): { readonly host: string; readonly path: string } {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase(), path: parsed.pathname };
  } catch {
    return { host: '', path: '' };
  }
}

/** True for a `text/event-stream` Content-Type. */
export function isEventStream(contentType: string | undefined): boolean {
  return /^\s*text\/event-stream\s*(?:;|$)/i.test(contentType ?? '');
}

/**
 * The subject of a `flow` event record. A record has no headers or bodies, so
 * `header:`, `req:` and `res:` terms do not match it; a WebSocket shows as status 101.
 */
export function subjectOfRecord(record: FlowRecord): FilterSubject {
  return {
    method: record.method,
    url: record.url,
    ...urlParts(record.url),
    status: record.status,
    contentType: record.contentType,
    requestHeaders: undefined,
    responseHeaders: undefined,
    responseSize: record.responseBytes,
    durationMs: record.durationMs,
    errorCode: record.error?.code,
    mode: record.mode,
    user: record.client.user,
    sni: sniOf(record.tls),
    isWebSocket: record.status === 101,
    isSse: isEventStream(record.contentType),
  };
}

/** The SNI a filter's `sni:` looks at: the client's, else the one sent to the origin. */
export function sniOf(tls: FlowTls | undefined): string | undefined {
  return tls?.client?.sni || tls?.origin?.sni || undefined;
}

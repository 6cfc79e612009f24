/**
 * Header translation between HTTP/1.1 raw header lists and HTTP/2 header blocks (RFC 9113 §8.2,
 * §8.3). The proxy keeps headers as flat raw lists (`[name, value, ...]`) on both hops; these
 * functions turn an HTTP/2 block into such a list and back.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { getRawHeader } from './header-map.js';

// RFC 9113 §8.2.2: connection-specific fields must not appear in HTTP/2; Node throws
// ERR_HTTP2_INVALID_CONNECTION_HEADERS for them. `host` becomes `:authority` (§8.3.1).
const NOT_IN_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

// Fields Node's http2 accepts only once per block (ERR_HTTP2_HEADER_SINGLE_VALUE); an HTTP/1.1
// peer that repeats one gets its first value through rather than a broken exchange.
const SINGLE_VALUE = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

/**
 * The raw list of an HTTP/2 header block without its pseudo-header fields. Cookie crumbs, which
 * HTTP/2 allows as separate fields, are joined into one `cookie` field with "; " (RFC 9113 §8.2.3)
 * where the first crumb was, since HTTP/1.1 origins expect a single one.
 */
export function rawFromH2(raw: readonly string[]): string[] {
  const out: string[] = [];
  let cookieAt = -1;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.startsWith(':')) continue;
    if (name === 'cookie') {
      if (cookieAt === -1) {
        cookieAt = out.length;
        out.push(name, value);
      } else {
        out[cookieAt + 1] = `${out[cookieAt + 1] as string}; ${value}`;
      }
      continue;
    }
    out.push(name, value);
  }
  return out;
}

/** A block's flat list as Node's http2 hands it out, without its pseudo-header fields (nothing joined). */
export function withoutPseudoHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) !== 58 /* ':' */) out.push(name, raw[i + 1] as string);
  }
  return out;
}

/**
 * An HTTP/2 header block for a raw list: lower-case names, repeated fields as arrays, and no
 * connection-specific fields. `te` survives only as `te: trailers`, the one value HTTP/2 allows,
 * and only when `trailersAccepted` (the gRPC protocol requires it of clients, to detect proxies that
 * would drop trailers). The fields go into `into` (a fresh object by default).
 */
export function h2FromRaw(raw: readonly string[], trailersAccepted = false, into: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const headers = into as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (NOT_IN_H2.has(name) || name.startsWith(':')) continue;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (SINGLE_VALUE.has(name)) continue;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value];
  }
  if (trailersAccepted) headers.te = 'trailers';
  return headers;
}

/** The request block for an HTTP/2 origin: pseudo-headers first, `:authority` from the raw list's Host. */
export function h2RequestHeaders(method: string, path: string, raw: readonly string[], trailersAccepted: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': method, ':scheme': 'https' };
  const authority = getRawHeader(raw, 'host');
  if (authority !== undefined) headers[':authority'] = authority;
  headers[':path'] = path;
  return h2FromRaw(raw, trailersAccepted, headers);
}

/** True when a TE field value lists `trailers` (RFC 9110 §10.1.4): the client will read trailer fields. */
export function acceptsTrailers(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'te') continue;
    if ((raw[i + 1] as string).split(',').some((token) => token.split(';')[0]?.trim().toLowerCase() === 'trailers')) return true;
  }
  return false;
}

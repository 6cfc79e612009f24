import type { HeaderPair } from './store/types.js';

// Hop-by-hop fields (RFC 9110 §7.6.1) belong to the recorded connection, and framing fields
// (Content-Length, Transfer-Encoding) to the recorded message: a client sending the request again
// makes its own. Host comes from the URL; HTTP/2 pseudo-headers (`:authority`, Chrome's HARs) are
// not fields at all.
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'host',
  'expect',
  'http2-settings',
]);

/** The recorded request headers a client should send again: without hop-by-hop, framing, Host and pseudo-headers. */
export function resendHeaders(headers: readonly HeaderPair[]): HeaderPair[] {
  const listed = new Set<string>();
  // Connection may name further hop-by-hop fields (RFC 9110 §7.6.1).
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) listed.add(token.trim().toLowerCase());
  }
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !lower.startsWith(':') && !DROPPED.has(lower) && !listed.has(lower);
  });
}

// A name/value pair as stores and the inspector's API hold them; declared here so the inspector's
// page can share this module without Node's types.
type HeaderPair = readonly [name: string, value: string];

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

// The hop a mitm proxy added to Via (exchange/via.ts): sent again through that proxy, it would be
// taken for a loop; it describes the recorded path, not the new one.
const OUR_VIA_HOP = /^\S+ mitm \(mitm-id [0-9a-f]+\)$/;

/**
 * The recorded request headers a client should send again: without hop-by-hop, framing, Host and
 * pseudo-headers, and without the Via hops mitm added.
 */
export function resendHeaders(headers: readonly HeaderPair[]): HeaderPair[] {
  const listed = new Set<string>();
  // Connection may name further hop-by-hop fields (RFC 9110 §7.6.1).
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) listed.add(token.trim().toLowerCase());
  }
  const kept = headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !lower.startsWith(':') && !DROPPED.has(lower) && !listed.has(lower);
  });
  return kept.flatMap(([name, value]): HeaderPair[] => {
    if (name.toLowerCase() !== 'via') return [[name, value]];
    const hops = value
      .split(',')
      .map((hop) => hop.trim())
      .filter((hop) => hop !== '' && !OUR_VIA_HOP.test(hop));
    return hops.length === 0 ? [] : [[name, hops.join(', ')]];
  });
}

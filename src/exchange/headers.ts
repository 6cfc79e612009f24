/**
 * Header handling between the two hops. Headers travel as Node's flat `rawHeaders` arrays
 * (`[name, value, name, value, ...]`) so that case, order and repetition reach the other side
 * exactly as sent; only hop-by-hop fields are dropped.
 */

/** RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones every proxy still meets. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The client's 100-continue was already answered by this hop (Node's server does it).
  'expect',
]);

/** A flat raw header list as Node exposes it on `IncomingMessage.rawHeaders`. */
export type RawHeaders = readonly string[];

/**
 * Returns `raw` without hop-by-hop fields, including every field the `Connection` header names
 * (RFC 9110 §7.6.1: "a proxy MUST ... remove any header field named in the Connection field").
 * A list with none of them is returned as it is, not copied (HTTP/2 messages never have any).
 */
export function stripHopByHop(raw: RawHeaders): RawHeaders {
  let clean = true;
  for (let i = 0; i < raw.length; i += 2) {
    if (HOP_BY_HOP.has((raw[i] as string).toLowerCase())) {
      clean = false;
      break;
    }
  }
  if (clean) return raw;
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    kept.push(name, raw[i + 1] as string);
  }
  return kept;
}

// What server replay compares (docs/replay.md): a request and a recording become the same key
// when they agree on the parts `--replay-match` names, each normalised so that what does not
// change the meaning (query and form parameter order, JSON key order, header case) does not count.
import { createHash } from 'node:crypto';
import type { ReplayMatch } from '../config/replay-match.js';
import { resendHeaders } from './resend-headers.js';

type HeaderPair = readonly [name: string, value: string];

/** What to compare and what to leave out (`--replay-match`, `--replay-ignore-param`, `--replay-ignore-header`). */
export interface MatchRules {
  readonly match: ReplayMatch;
  /** Query parameter and form/JSON body field names (exact case). */
  readonly ignoreParams: ReadonlySet<string>;
  /** Request header names (lower-case). */
  readonly ignoreHeaders: ReadonlySet<string>;
}

/** The key of a request without its body: method, URL and headers, as far as the rules compare them. */
export function headKey(rules: MatchRules, method: string, url: string, headers: readonly HeaderPair[]): string {
  const { match } = rules;
  return JSON.stringify([
    match.method ? method.toUpperCase() : '',
    match.url ? urlKey(url, rules.ignoreParams) : '',
    headersKey(match.headers, headers, rules.ignoreHeaders),
  ]);
}

/**
 * The key of a decoded request body: a form body by its parameters in order, a JSON body by its
 * value with keys sorted (ignored fields left out at any depth), anything else by its bytes.
 */
export function bodyKey(rules: MatchRules, body: Buffer, contentType: string | undefined): string {
  if (body.length === 0) return '';
  const essence = (contentType?.split(';')[0] ?? '').trim().toLowerCase();
  const normalised =
    essence === 'application/x-www-form-urlencoded'
      ? `form:${sortedParams(body.toString('utf8'), rules.ignoreParams)}`
      : /[/+]json$/.test(essence)
        ? jsonKey(body, rules.ignoreParams)
        : undefined;
  const hash = createHash('sha256');
  if (normalised === undefined) hash.update('raw:').update(body);
  else hash.update(normalised);
  return hash.digest('base64');
}

/** `scheme://host:port/path?sorted-query`; the port always stated, a ws(s) URL as its http(s) form. */
function urlKey(url: string, ignore: ReadonlySet<string>): string {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/^ws(s?):/i, 'http$1:'));
  } catch {
    return url;
  }
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return `${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname}?${sortedParams(parsed.search.slice(1), ignore)}`;
}

function sortedParams(query: string, ignore: ReadonlySet<string>): string {
  const pairs = [...new URLSearchParams(query)].filter(([name]) => !ignore.has(name));
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return new URLSearchParams(pairs).toString();
}

function headersKey(which: ReplayMatch['headers'], headers: readonly HeaderPair[], ignore: ReadonlySet<string>): string {
  if (which !== 'all' && which.length === 0) return '';
  const values = new Map<string, string[]>();
  // Hop-by-hop, framing, Host and pseudo-headers describe the connection, not the request.
  for (const [name, value] of resendHeaders(headers)) {
    const lower = name.toLowerCase();
    values.set(lower, [...(values.get(lower) ?? []), value]);
  }
  const names = which === 'all' ? [...values.keys()].filter((name) => !ignore.has(name)).sort() : which;
  return JSON.stringify(names.map((name) => [name, values.get(name)?.join(', ') ?? null]));
}

/** `json:` and the body's value with keys sorted and ignored fields left out; undefined when it is not JSON. */
function jsonKey(body: Buffer, ignore: ReadonlySet<string>): string | undefined {
  try {
    return `json:${JSON.stringify(canonical(JSON.parse(body.toString('utf8')), ignore))}`;
  } catch {
    return undefined;
  }
}

function canonical(value: unknown, ignore: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item, ignore));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([key]) => !ignore.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([key, item]) => [key, canonical(item, ignore)]);
}

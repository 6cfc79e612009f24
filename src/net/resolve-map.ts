// `--resolve NAME=ADDR`: curl's --resolve for the proxy's own origin lookups. A dial to NAME goes
// to ADDR without asking DNS; the TLS server name and the certificate check still use NAME, so a
// real name can be pointed at a staging box (or a test origin on 127.0.0.1) and still verify.
import { isIP } from 'node:net';
import { MitmError } from '../errors.js';
import { globToRegExp } from './glob.js';
import { normalizeHost } from './target.js';

/** The address `--resolve` gives `host`, or undefined when no entry names it. */
export type ResolveMap = (host: string) => string | undefined;

/** One parsed `NAME=ADDR` entry: an exact name or a glob (`*.test`), and an IP literal. */
interface ResolveEntry {
  readonly name: string;
  readonly pattern: RegExp | undefined;
  readonly address: string;
}

/** Parses one `NAME=ADDR` value; throws `config_invalid` naming --resolve and the bad part. */
export function parseResolveEntry(value: string): ResolveEntry {
  const equals = value.indexOf('=');
  if (equals < 0) throw invalid(`${quote(value)} is not NAME=ADDR`);
  const rawName = value.slice(0, equals).trim();
  const rawAddress = value.slice(equals + 1).trim();
  const glob = /[*?]/.test(rawName);
  let name: string;
  try {
    // A glob's wildcards are checked as if they were letters: what remains must be a host name.
    name = glob ? rawName.toLowerCase().replace(/\.$/, '') : normalizeHost(rawName);
    if (glob) normalizeHost(name.replace(/[*?]/g, 'x'));
  } catch {
    throw invalid(`the name ${quote(rawName)} in ${quote(value)} is not a host name or glob`);
  }
  const address = rawAddress.startsWith('[') && rawAddress.endsWith(']') ? rawAddress.slice(1, -1) : rawAddress;
  if (isIP(address) === 0 || address.includes('%')) {
    throw invalid(`the address ${quote(rawAddress)} in ${quote(value)} is not an IPv4 or IPv6 address`);
  }
  return { name, pattern: glob ? globToRegExp(name) : undefined, address: address.toLowerCase() };
}

/**
 * Builds the lookup for `--resolve` entries: an exact name wins over globs, and among globs the
 * first given wins. Undefined when there are no entries (every dial resolves as before).
 */
export function createResolveMap(entries: readonly string[]): ResolveMap | undefined {
  if (entries.length === 0) return undefined;
  const exact = new Map<string, string>();
  const globs: ResolveEntry[] = [];
  for (const entry of entries.map(parseResolveEntry)) {
    if (entry.pattern) globs.push(entry);
    else if (!exact.has(entry.name)) exact.set(entry.name, entry.address);
  }
  return (host) => {
    const name = host.toLowerCase().replace(/\.$/, '');
    return exact.get(name) ?? globs.find((entry) => entry.pattern?.test(name))?.address;
  };
}

function invalid(detail: string): MitmError {
  return new MitmError('config_invalid', `--resolve: ${detail}`);
}

function quote(text: string): string {
  return JSON.stringify(text.slice(0, 120));
}

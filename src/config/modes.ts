// `--mode` values: each names one listener and how it learns where traffic goes (mitmproxy's mode
// syntax). regular: the client says (CONNECT, absolute URIs, SOCKS5); transparent: the traffic
// says (SNI, Host); reverse: the listener says (one fixed origin); dns: a resolver that steers
// names to a transparent listener.
import { isIP } from 'node:net';
import { MitmError } from '../errors.js';
import { formatAuthority, normalizeHost } from '../net/target.js';

/** Where one listener binds; `host` undefined means the `--host` option's address. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** The fixed origin of a reverse listener. */
export interface ReverseOrigin {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
}

/** One parsed `--mode`. */
export type ModeSpec =
  | { readonly kind: 'regular'; readonly listen: ListenAddress | undefined }
  | { readonly kind: 'transparent'; readonly listen: ListenAddress; readonly originPort: number }
  | { readonly kind: 'dns'; readonly listen: ListenAddress }
  | { readonly kind: 'reverse'; readonly listen: ListenAddress; readonly origin: ReverseOrigin };

/** A listener as bound: what `proxy.listeners` lists and the ready lines print. */
export interface ListenerInfo {
  readonly kind: ModeSpec['kind'];
  /** `describeMode`: the kind, and for reverse its origin. */
  readonly mode: string;
  readonly host: string;
  readonly port: number;
  /** How a client names it: `http://HOST:PORT` (regular), `HOST:PORT` (transparent, reverse), `udp://HOST:PORT` (dns). */
  readonly address: string;
}

/** The kinds of listener, in the order `--help` lists them. */
export const MODE_KINDS = ['regular', 'transparent', 'reverse', 'dns'] as const;

const USAGE = 'expected regular[@[HOST:]PORT], transparent@[HOST:]PORT[:ORIGINPORT], reverse:URL@[HOST:]PORT or dns@[HOST:]PORT';

/** Parses one `--mode` value, or throws `config_invalid` saying which part is wrong. */
export function parseMode(text: string): ModeSpec {
  const fail = (why: string): MitmError => new MitmError('config_invalid', `invalid mode ${JSON.stringify(text)}: ${why}`);
  const at = text.lastIndexOf('@');
  const head = at === -1 ? text : text.slice(0, at);
  const address = at === -1 ? undefined : text.slice(at + 1);
  const colon = head.indexOf(':');
  const kind = colon === -1 ? head : head.slice(0, colon);
  const argument = colon === -1 ? undefined : head.slice(colon + 1);
  if (!(MODE_KINDS as readonly string[]).includes(kind)) throw fail(`unknown mode ${JSON.stringify(kind)}; ${USAGE}`);
  if (kind !== 'reverse' && argument !== undefined) throw fail(`${kind} takes no argument before '@'`);
  if (kind !== 'regular' && address === undefined)
    throw fail(`${kind} needs a port: ${kind === 'reverse' ? 'reverse:URL' : kind}@[HOST:]PORT`);
  const parts = address === undefined ? undefined : splitAddress(address, kind === 'transparent', fail);

  switch (kind) {
    case 'regular':
      return { kind, listen: parts && { host: parts.host, port: parts.port } };
    case 'dns':
      return { kind, listen: { host: parts?.host, port: parts?.port ?? 0 } };
    case 'transparent':
      return { kind, listen: { host: parts?.host, port: parts?.port ?? 0 }, originPort: parts?.extra ?? 443 };
    default:
      if (argument === undefined || argument === '') throw fail('reverse needs the origin URL: reverse:https://host[:port]@[HOST:]PORT');
      return { kind: 'reverse', listen: { host: parts?.host, port: parts?.port ?? 0 }, origin: reverseOrigin(argument, fail) };
  }
}

/** A mode as the ready line and logs name it: `transparent@127.0.0.1:8443`. */
export function describeMode(mode: ModeSpec): string {
  if (mode.kind === 'reverse')
    return `reverse:${mode.origin.secure ? 'https' : 'http'}://${formatAuthority(mode.origin, mode.origin.secure ? 443 : 80)}`;
  return mode.kind;
}

// `PORT`, `HOST:PORT`, `[V6]:PORT`, and for transparent a trailing `:ORIGINPORT`.
function splitAddress(
  address: string,
  withExtra: boolean,
  fail: (why: string) => MitmError,
): { host: string | undefined; port: number; extra: number | undefined } {
  let host: string | undefined;
  let rest = address;
  const bracketed = /^\[([^\]]+)\](.*)$/.exec(address);
  if (bracketed) {
    host = bracketed[1];
    rest = (bracketed[2] ?? '').replace(/^:/, '');
    if (isIP(host ?? '') !== 6) throw fail(`${JSON.stringify(host)} is not an IPv6 address`);
  }
  const tokens = rest.split(':');
  if (host === undefined && tokens.length >= 2 && !/^\d+$/.test(tokens[0] ?? '')) host = tokens.shift();
  if (host !== undefined && host !== '' && bracketed === null) {
    try {
      host = normalizeHost(host);
    } catch {
      throw fail(`${JSON.stringify(host)} is not a host name or address`);
    }
  }
  const max = withExtra ? 2 : 1;
  if (tokens.length === 0 || tokens.length > max)
    throw fail(withExtra ? 'expected [HOST:]PORT[:ORIGINPORT] after @' : 'expected [HOST:]PORT after @');
  const [port, extra] = tokens.map((token) => portOf(token, fail));
  return { host: host === '' ? undefined : host, port: port ?? 0, extra };
}

function portOf(text: string, fail: (why: string) => MitmError): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw fail(`${JSON.stringify(text)} is not a port (0–65535)`);
  return port;
}

function reverseOrigin(text: string, fail: (why: string) => MitmError): ReverseOrigin {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail(`${JSON.stringify(text)} is not a URL: expected http://host[:port] or https://host[:port]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw fail(`the reverse origin must be http:// or https://, not ${url.protocol}//`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
    throw fail('the reverse origin is a scheme, host and port only (no path, query or credentials)');
  }
  const secure = url.protocol === 'https:';
  return { secure, host: normalizeHost(url.hostname), port: url.port === '' ? (secure ? 443 : 80) : Number(url.port) };
}

/** Checks that `text` is an IPv4 or IPv6 literal (`--dns-answer`), or throws `config_invalid`. */
export function ipLiteral(text: string): string {
  if (isIP(text) === 0) throw new MitmError('config_invalid', `${JSON.stringify(text)} is not an IP address`);
  return text;
}

/** Parses `--dns-upstream`: `ADDR`, `ADDR:PORT` or `[V6]:PORT` (port 53 by default), or throws `config_invalid`. */
export function parseDnsUpstream(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const host = isIP(text) === 6 ? text : (bracketed?.[1] ?? plain?.[1] ?? '');
  const port = Number((isIP(text) === 6 ? undefined : (bracketed?.[2] ?? plain?.[2])) ?? 53);
  if (isIP(host) === 0 || !(port >= 1 && port <= 65535)) {
    throw new MitmError('config_invalid', `${JSON.stringify(text)} is not a resolver address: expected ADDR or ADDR:PORT (an IP address)`);
  }
  return { host, port };
}

/** The listener facts for a bound `mode` on `host:port`. */
export function listenerInfo(mode: ModeSpec, host: string, port: number): ListenerInfo {
  const authority = formatAuthority({ host, port });
  const address = mode.kind === 'regular' ? `http://${authority}` : mode.kind === 'dns' ? `udp://${authority}` : authority;
  return { kind: mode.kind, mode: describeMode(mode), host, port, address };
}

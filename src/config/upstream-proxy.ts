import { BlockList, isIP } from 'node:net';
import { MitmError } from '../errors.js';
import { globToRegExp } from '../net/glob.js';
import { formatAuthority, normalizeHost, type Target } from '../net/target.js';

/** The proxy every origin connection goes through (`--upstream-proxy`), parsed once at start. */
export interface UpstreamProxy {
  /** `socks5` resolves names here and sends the address; `socks5h` lets the SOCKS server resolve them. */
  readonly protocol: 'http' | 'https' | 'socks5' | 'socks5h';
  readonly host: string;
  readonly port: number;
  /** From the URL's userinfo, percent-decoded. Never part of a message or a log line. */
  readonly credentials: { readonly user: string; readonly password: string } | undefined;
  /** `host:port` without credentials: how messages name the proxy. */
  readonly label: string;
}

const DEFAULT_PORTS = { http: 80, https: 443, socks5: 1080, socks5h: 1080 } as const;

/** Parses an `--upstream-proxy` URL, or throws `config_invalid` with a message that never echoes a password. */
export function parseUpstreamProxy(text: string): UpstreamProxy {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MitmError('config_invalid', `not a URL: expected http://[user:pass@]host:port, https://… or socks5://…`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (!(protocol === 'http' || protocol === 'https' || protocol === 'socks5' || protocol === 'socks5h')) {
    throw new MitmError('config_invalid', `unsupported scheme ${protocol} (use http, https, socks5 or socks5h)`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new MitmError('config_invalid', 'an upstream proxy URL has no path, query or fragment');
  }
  const host = normalizeHost(url.hostname);
  const port = url.port === '' ? DEFAULT_PORTS[protocol] : Number(url.port);
  const credentials =
    url.username === '' && url.password === ''
      ? undefined
      : { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return { protocol, host, port, credentials, label: formatAuthority({ host, port }) };
}

/** The `Proxy-Authorization` value for an http(s) upstream proxy with credentials in its URL. */
export function basicCredentials(credentials: NonNullable<UpstreamProxy['credentials']>): string {
  return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
}

/**
 * Compiles an `--upstream-bypass` list (NO_PROXY style, comma- or space-separated) into a test for
 * origins that are dialled directly. Entries: `*` (everything), a host name (itself and its
 * subdomains, as curl reads NO_PROXY), `.example.com` (the same), a glob (`*.corp`, `host-?`), an
 * IP address or a CIDR block (`10.0.0.0/8`, `fd00::/8`); any of them may end in `:port`.
 */
export function createBypass(list: string | undefined): (target: Target) => boolean {
  const rules: Array<(target: Target) => boolean> = [];
  for (const raw of (list ?? '').split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return () => true;
    const { host, port } = splitPort(entry);
    const portMatches = (target: Target): boolean => port === undefined || target.port === port;
    const test = hostTest(host);
    rules.push((target) => portMatches(target) && test(target.host));
  }
  return (target) => rules.some((rule) => rule(target));
}

/** Checks an `--upstream-bypass` list, throwing `config_invalid` for an entry that can never match. */
export function validateBypass(list: string): void {
  for (const raw of list.split(/[\s,]+/)) {
    const entry = raw.trim();
    if (entry === '' || entry === '*') continue;
    hostTest(splitPort(entry.toLowerCase()).host);
  }
}

function hostTest(host: string): (host: string) => boolean {
  if (host.includes('/')) {
    const [address = '', bits = ''] = host.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    if (family === 0 || !/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      throw new MitmError('config_invalid', `invalid CIDR block ${JSON.stringify(host)} in the bypass list`);
    }
    const blocks = new BlockList();
    blocks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    return (candidate) => {
      const candidateFamily = isIP(candidate);
      return candidateFamily !== 0 && blocks.check(candidate, candidateFamily === 4 ? 'ipv4' : 'ipv6');
    };
  }
  if (/[*?]/.test(host)) {
    const pattern = globToRegExp(host);
    return (candidate) => pattern.test(candidate);
  }
  const name = host.replace(/^\./, '');
  if (name === '') throw new MitmError('config_invalid', 'an empty name in the bypass list');
  return (candidate) => candidate === name || (isIP(name) === 0 && candidate.endsWith(`.${name}`));
}

/** `host:port`, `[v6]:port`, or a bare host / IPv6 literal (whose colons are not a port). */
function splitPort(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const withPort = /^([^:]+):(\d{1,5})$/.exec(entry);
  if (withPort) return { host: withPort[1] ?? '', port: Number(withPort[2]) };
  return { host: entry, port: undefined };
}

import { isIP } from 'node:net';
import { MitmError } from '../errors.js';

/** Where a request or tunnel goes: a validated, lower-case host (IPv6 without brackets) and a port. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

// RFC 1035 limits, with '_' allowed because real service names (e.g. _dmarc, SRV-style hosts) use it.
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const MAX_NAME_LENGTH = 253;

/**
 * Returns the canonical form of a host name or IP literal, or throws `host_invalid`. This is the
 * only gate between client-controlled text and certificate minting, logs and file names: nothing
 * with path characters, control bytes, spaces or over-long labels passes.
 */
export function normalizeHost(input: string): string {
  const unbracketed = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const host = unbracketed.toLowerCase().replace(/\.$/, '');
  // net.isIP accepts IPv6 zone IDs (fe80::1%eth0): local interface names have no place here.
  if (isIP(host) !== 0 && !host.includes('%')) return host;
  const labels = host.split('.');
  if (host.length === 0 || host.length > MAX_NAME_LENGTH || !labels.every((label) => LABEL.test(label))) {
    throw new MitmError('host_invalid', `invalid host name ${JSON.stringify(input.slice(0, 80))}`);
  }
  return host;
}

/** Parses the `host:port` authority of a CONNECT request (`[v6]:port` for IPv6); the port is required. */
export function parseAuthority(authority: string, defaultPort?: number): Target {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(authority);
  const portText = match?.[2];
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!match || port === undefined || port < 1 || port > 65535) {
    throw new MitmError('host_invalid', `invalid target ${JSON.stringify(authority.slice(0, 80))}: expected host:port`);
  }
  return { host: normalizeHost(match[1] ?? ''), port };
}

/** Formats a target as `host:port`, bracketing IPv6 literals; the port is left out when it is `defaultPort`. */
export function formatAuthority(target: Target, defaultPort?: number): string {
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}

/** The network-order bytes (4 or 16) of an IP literal that `normalizeHost` accepted; throws for a DNS name. */
export function ipAddressBytes(host: string): Buffer {
  const family = isIP(host);
  if (family === 0) throw new Error(`not an IP address: ${host}`);
  if (family === 4) return Buffer.from(host.split('.').map(Number));
  // normalizeHost has already refused zone indexes (fe80::1%eth0): no certificate can name them.
  return ipv6Bytes(host);
}

// Expands an IPv6 literal that isIP() has already accepted (so only '::' and a trailing dotted quad
// need handling, not validation) into its 16 bytes.
function ipv6Bytes(address: string): Buffer {
  const dottedQuad = /\d+\.\d+\.\d+\.\d+$/.exec(address)?.[0];
  const text = dottedQuad === undefined ? address : `${address.slice(0, -dottedQuad.length)}0:0`;
  const [head = '', tail] = text.split('::');
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const headGroups = split(head);
  const tailGroups = tail === undefined ? [] : split(tail);
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => {
    bytes.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  if (dottedQuad !== undefined) Buffer.from(dottedQuad.split('.').map(Number)).copy(bytes, 12);
  return bytes;
}

/** The host whose every request the proxy answers itself with the landing site. */
export const LANDING_HOST = 'mitm.it';

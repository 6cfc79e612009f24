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
  const match = /^(\[[^\]]*\]|[^:\[\]]*)(?::(\d{1,5}))?$/.exec(authority);
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

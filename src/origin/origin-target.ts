import { isIP } from 'node:net';
import { formatAuthority, parseAuthority, type Target } from '../net/target.js';

/** An origin as the upstream side dials it. */
export interface OriginTarget extends Target {
  /** Speak TLS to the origin. */
  readonly secure: boolean;
  /** SNI and the name the origin's certificate must carry; '' for an IP literal with no name. */
  readonly servername: string;
}

/** The origin and origin-form path of an absolute URL a hook set (`flow.request.url`). */
export function originOfUrl(url: string): { origin: OriginTarget; path: string } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  return { origin: originTarget(parseAuthority(parsed.host, secure ? 443 : 80), secure), path: `${parsed.pathname}${parsed.search}` };
}

/** Where requests for `target` go: with TLS when `secure`, named by the client's SNI, else by a host name (an IP literal has none). */
export function originTarget(target: Target, secure: boolean, sni = ''): OriginTarget {
  const servername = sni || (isIP(target.host) === 0 ? target.host : '');
  return { host: target.host, port: target.port, secure, servername };
}

/** Origins whose ALPN choice, TLS ticket and undici pool are remembered; the least recently used go first (they are only re-probed). */
export const MAX_REMEMBERED_ORIGINS = 1000;

/** Identifies an origin for pooling and the remembered ALPN choice: host, port and SNI name. */
export function originKey(origin: OriginTarget): string {
  return `${formatAuthority(origin)}/${origin.servername}`;
}

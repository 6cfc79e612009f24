import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

/**
 * The inspector's door: it shows decrypted traffic, so every request must come from a page or a
 * script that holds the token, under a Host name we answer to (DNS rebinding), and WebSockets from
 * our own origin (cross-site WebSocket hijacking).
 */
export class UiAccess {
  readonly token: string;
  readonly cookieName: string;
  readonly #hosts: ReadonlySet<string>;

  constructor(options: { readonly host: string; readonly port: number; readonly token?: string | undefined }) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.cookieName = `mitm_ui_${options.port}`;
    this.#hosts = allowedHosts(options.host, options.port);
  }

  /** True when the Host header names us: a loopback name or the listen address, with our port. */
  hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host?.toLowerCase();
    return host !== undefined && this.#hosts.has(host);
  }

  /** True when an Origin header, if any, is ours; `required` makes a missing Origin a refusal (WebSockets). */
  originAllowed(req: IncomingMessage, required: boolean): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    const match = /^http:\/\/([^/]+)$/i.exec(origin);
    return match?.[1] !== undefined && this.#hosts.has(match[1].toLowerCase());
  }

  /** True when the request carries the token: our cookie, or `Authorization: Bearer TOKEN` (scripts). */
  authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.matches(bearer)) return true;
    const cookie = readCookie(req.headers.cookie, this.cookieName);
    return cookie !== undefined && this.matches(cookie);
  }

  /** Constant-time comparison with the token. */
  matches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The Set-Cookie value that lets the page in from now on. */
  cookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

/** Headers every answer carries: no inline or remote script, no framing, no sniffing, no caching. */
export const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  if (!wildcard) names.add(`${isIP(host) === 6 ? `[${host}]` : host.toLowerCase()}:${port}`);
  return names;
}

/** One cookie's value out of a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

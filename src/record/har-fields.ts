import type { Cookie, QueryString } from 'har-format';
import type { FlowTimings } from '../flow/flow.js';
import { valuesOf, type HeaderMap } from '../flow/header-map.js';
import { timingPhases } from '../flow/timing-phases.js';
import type { FlowTls } from '../flow/tls-facts.js';
import type { HarEntry, HarResponse, HarSecurityDetails, HarTimings } from './har-types.js';

// The parts of a HAR entry computed the same way from a live Flow (har.ts) and from a stored one
// (har-stored.ts), so both write identical entries for the same exchange.

/**
 * The flow's phases (timing-phases.ts) in HAR's terms: `send` (the proxy's own work, hooks
 * included), `blocked`, `connect` (`ssl` included, as HAR 1.2 says) for the part of opening a new
 * origin connection the request waited for, `wait`, `receive`; -1 for a phase that did not happen.
 */
export function harTimings(t: FlowTimings): HarTimings {
  const { send, blocked, connect, ssl, wait, receive } = timingPhases(t);
  return { blocked, dns: -1, connect, ssl, send, wait, receive };
}

/** An entry's `time`: the sum of its phases that happened (`ssl` is inside `connect`). */
export function harTime(t: HarTimings): number {
  return [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive].reduce<number>((sum, phase) => sum + Math.max(0, phase ?? 0), 0);
}

/**
 * Adds a flow's TLS facts to its entry: `_tls` (both sides, as recorded) and, for the origin side,
 * `_securityDetails` in the shape Chrome DevTools writes (validity in epoch seconds).
 */
export function addTls(entry: HarEntry, tls: FlowTls | undefined): void {
  if (tls === undefined) return;
  entry._tls = tls;
  const origin = tls.origin;
  if (origin === undefined) return;
  const details: HarSecurityDetails = { protocol: origin.version.replace(/^TLSv/, 'TLS '), cipher: origin.cipher };
  const certificate = origin.certificate;
  if (certificate) {
    details.subjectName = certificate.subject;
    details.sanList = [...certificate.sans];
    details.issuer = certificate.issuer;
    details.validFrom = Math.floor(Date.parse(certificate.validFrom) / 1000);
    details.validTo = Math.floor(Date.parse(certificate.validTo) / 1000);
  }
  entry._securityDetails = details;
}

/** The response of an entry that got none: status 0, as DevTools shows "(failed)". */
export function noResponse(): HarResponse {
  return {
    status: 0,
    statusText: '',
    httpVersion: '',
    cookies: [],
    headers: [],
    content: { size: 0, mimeType: 'x-unknown' },
    redirectURL: '',
    headersSize: -1,
    bodySize: -1,
  };
}

/** The query string of a URL as HAR name/value pairs. */
export function queryOf(url: string): QueryString[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** `a=1; b=2` → two cookies (RFC 6265 §4.2). */
export function parseCookieHeader(value: string): Cookie[] {
  const cookies: Cookie[] = [];
  for (const item of value.split(';')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    cookies.push({ name: item.slice(0, eq).trim(), value: item.slice(eq + 1).trim() });
  }
  return cookies;
}

/** One Set-Cookie line (RFC 6265 §5.2); Max-Age counts from when the response arrived. */
export function parseSetCookie(line: string, receivedAt: number): Cookie {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  // A pair without "=" is a cookie with an empty name (RFC 6265bis §5.6).
  const cookie: Cookie = eq < 0 ? { name: '', value: pair.trim() } : { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
  let maxAge: number | undefined;
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? '' : attribute.slice(at + 1).trim();
    if (key === 'path' && value) cookie.path = value;
    else if (key === 'domain' && value) cookie.domain = value;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'expires') {
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) cookie.expires = date.toISOString();
    } else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
  }
  // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
  if (maxAge !== undefined) {
    const date = new Date(receivedAt + maxAge * 1000);
    if (!Number.isNaN(date.getTime())) cookie.expires = date.toISOString();
  }
  return cookie;
}

/** The first value of a header. */
export function first(value: string | string[] | undefined): string | undefined {
  return valuesOf(value)[0];
}

/** The Content-Length as a number, when it is one. */
export function declaredLength(headers: HeaderMap): number | undefined {
  const value = first(headers['content-length']);
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

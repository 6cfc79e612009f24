import type { Cookie, QueryString } from 'har-format';
import type { FlowTimings } from '../flow/flow.js';
import { valuesOf, type HeaderMap } from '../flow/header-map.js';
import type { HarResponse, HarTimings } from './har-types.js';

// The parts of a HAR entry computed the same way from a live Flow (har.ts) and from a stored one
// (har-stored.ts), so both write identical entries for the same exchange.

/** Splits the flow's milestones into send / wait / receive, each clamped so they add up to the total. */
export function harTimings(t: FlowTimings): HarTimings {
  const start = t.start;
  const end = Math.max(start, t.end ?? t.responseStart ?? t.requestSent ?? start);
  const within = (value: number, low: number): number => Math.min(end, Math.max(low, value));
  // A hook's answer has no requestSent: the time until it is all "send" (the proxy's own work).
  const sent = within(t.requestSent ?? t.responseStart ?? end, start);
  const head = within(t.responseStart ?? end, sent);
  return { blocked: -1, dns: -1, connect: -1, ssl: -1, send: sent - start, wait: head - sent, receive: end - head };
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

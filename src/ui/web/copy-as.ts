import { resendHeaders } from '../../record/resend-headers.js';
import type { FlowDetail, HeaderPair } from '../api-types.js';

// The same rule as `mitm replay` and `mitm flows --format curl`: no hop-by-hop, framing or Host
// fields, no pseudo-headers, and not the Via hop mitm added (sent again through mitm, a loop).
function sendable(headers: readonly HeaderPair[]): HeaderPair[] {
  return resendHeaders(headers);
}

/** A POSIX shell single-quoted word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The request as a curl command (body as text; `--compressed` when the client accepted encodings). */
export function toCurl(flow: FlowDetail): string {
  const parts = ['curl'];
  if (flow.method !== 'GET' || flow.requestBody !== undefined) parts.push('-X', shellQuote(flow.method));
  parts.push(shellQuote(flow.url));
  let compressed = false;
  for (const [name, value] of sendable(flow.requestHeaders)) {
    if (name.toLowerCase() === 'accept-encoding') {
      compressed = true;
      continue;
    }
    parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  if (compressed) parts.push('--compressed');
  const body = flow.requestBody;
  if (body?.text !== undefined) parts.push('--data-binary', shellQuote(body.text));
  else if (body?.base64 !== undefined) parts.push('--data-binary', `"$(printf %s ${shellQuote(body.base64)} | base64 -d)"`);
  return parts.join(' ');
}

/**
 * The request as an HTTPie command: `http --ignore-stdin METHOD URL Name:value… --raw BODY`, so
 * the body goes as recorded instead of as HTTPie's key=value JSON; a binary body is piped in
 * through base64. Accept-Encoding is left to HTTPie, which decodes what it asked for.
 */
export function toHttpie(flow: FlowDetail): string {
  const body = flow.requestBody;
  const parts = body?.base64 !== undefined ? [`printf %s ${shellQuote(body.base64)} | base64 -d |`, 'http'] : ['http', '--ignore-stdin'];
  parts.push(flow.method, shellQuote(flow.url));
  for (const [name, value] of sendable(flow.requestHeaders)) {
    if (name.toLowerCase() === 'accept-encoding') continue;
    // `Name;` is HTTPie's spelling of a field sent empty (`Name:` would leave it out).
    parts.push(shellQuote(value === '' ? `${name};` : `${name}:${value}`));
  }
  if (body?.text !== undefined) parts.push('--raw', shellQuote(body.text));
  return parts.join(' ');
}

/** The request as a `fetch()` call for a browser console or Node. */
export function toFetch(flow: FlowDetail): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of sendable(flow.requestHeaders)) {
    if (name.toLowerCase() === 'accept-encoding') continue;
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const init: Record<string, unknown> = { method: flow.method, headers };
  if (flow.requestBody?.text !== undefined) init.body = flow.requestBody.text;
  return `await fetch(${JSON.stringify(flow.url)}, ${JSON.stringify(init, null, 2)});`;
}

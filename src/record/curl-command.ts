import { resendHeaders } from './resend-headers.js';
import type { StoredFlow } from './store/types.js';

/**
 * A runnable bash command that sends a stored request again with curl: method, URL, headers
 * (without hop-by-hop and framing fields) and body. A text body is given inline with `$'…'`
 * quoting; any other body is piped in as base64 (`base64 -d | curl --data-binary @-`). A body the
 * recording cut short says so in a comment, since it cannot be sent whole.
 */
export function curlCommand(flow: StoredFlow): string {
  const args: string[] = ['curl', '-sS'];
  const body = flow.requestBody;
  if (flow.method === 'HEAD') args.push('--head');
  else if (flow.method !== 'GET' || body !== undefined) args.push('-X', shellWord(flow.method));
  const url = flow.url.replace(/^ws(s?):/i, 'http$1:');
  args.push(shellWord(url));
  let compressed = false;
  for (const [name, value] of resendHeaders(flow.requestHeaders)) {
    // curl decodes what it asked to be encoded only with --compressed, which sends its own Accept-Encoding.
    if (name.toLowerCase() === 'accept-encoding') {
      compressed = true;
      continue;
    }
    args.push('-H', shellWord(`${name}: ${value}`));
  }
  if (compressed) args.push('--compressed');
  // --http1.1 / --http2 is left to curl: the origin negotiates it as it did for the client.
  let prefix = '';
  if (body !== undefined) {
    const text = inlineText(body.raw);
    if (text !== undefined) args.push('--data-binary', ansiC(text));
    else {
      prefix = `printf %s ${shellWord(body.raw.toString('base64'))} | base64 -d | `;
      args.push('--data-binary', '@-');
    }
  }
  const note = body?.cut
    ? `# the recorded body was cut after ${body.raw.length} bytes (of ${body.fullLength ?? 'unknown'}): this sends only those\n`
    : '';
  return `${note}${prefix}${args.join(' ')}`;
}

/** The body as text when it is UTF-8 without NUL, so it can be written inline; else undefined. */
function inlineText(raw: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    return text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** Quotes a word for sh: bare when it holds only safe characters, else in single quotes. */
export function shellWord(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** bash's `$'…'` quoting: every control character, quote and backslash escaped, so the line stays one line. */
function ansiC(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped.
  const escaped = text.replace(/[\\'\u0000-\u001f\u007f]/g, (char) => {
    if (char === '\\') return '\\\\';
    if (char === "'") return "\\'";
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `$'${escaped}'`;
}

import { MitmError } from '../errors.js';
import type { FlowTimings } from '../flow/flow.js';
import { HarInput, type HarInputEntry } from './har-input.js';
import { rowText, textColumns } from './store/body-text.js';
import { sseEvents, type BodyRowData, type FlowRowData, type FlowRows } from './store/flow-rows.js';
import type { SessionStore } from './store/open-store.js';

/**
 * Adds the entries of a HAR file's text (ours, Chrome DevTools, Firefox, mitmproxy) to a store, in
 * file order, and returns how many. Bodies are stored as the HAR holds them (decoded), and the
 * HAR's `bodySize` as their length on the wire, so exporting them again writes the same entries.
 * Throws `config_invalid` naming the file when it is not a HAR.
 */
export async function importHar(store: SessionStore, text: string, file: string): Promise<number> {
  const parsed = parseHar(text, file);
  // Our own HARs carry the proxy's flow id; others are numbered in order.
  parsed.log.entries.forEach((entry, index) => {
    store.appendRows(harEntryRows(entry, entry._id ?? index + 1));
  });
  await store.flush();
  return parsed.log.entries.length;
}
type HarFile = ReturnType<typeof HarInput.parse>;

/** A HAR file's text, checked as far as the import reads it; `config_invalid` naming `file` when it is not a HAR. */
export function parseHar(text: string, file: string): HarFile {
  try {
    return HarInput.parse(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'it has no log.entries list of requests';
    throw new MitmError('config_invalid', `${file} is not a HAR file: ${reason}`, { cause: error });
  }
}

/** The store rows of one HAR entry; `id` becomes its `proxy_flow_id`. */
export function harEntryRows(entry: HarInputEntry, id: number): FlowRows {
  const { request, response } = entry;
  const url = request.url.replace(/^ws(s?):/i, 'http$1:');
  const start = Date.parse(entry.startedDateTime);
  const timings = importedTimings(entry, start);
  const answered = response.status > 0;
  const contentType = header(response.headers, 'content-type') ?? mime(response.content?.mimeType);
  const requestBody = bodyRow(
    'request',
    request.postData,
    request.bodySize,
    header(request.headers, 'content-type') ?? mime(request.postData?.mimeType),
  );
  const responseBody = answered ? bodyRow('response', response.content, response.bodySize, contentType) : undefined;
  const error = entry._error ?? (answered ? undefined : { code: 'aborted', message: failure(response._error) });
  const server = entry.serverIPAddress?.replace(/^\[|\]$/g, '');
  const isWebSocket = entry._resourceType === 'websocket' || /^wss?:/i.test(request.url) || entry._webSocketMessages !== undefined;
  const isSse = /^text\/event-stream\b/i.test(contentType ?? '');
  const target = splitUrl(url);
  const flow: FlowRowData = {
    proxy_flow_id: id,
    started_at: start,
    method: request.method,
    url,
    host: target.host,
    path: target.path,
    status: answered ? response.status : null,
    status_message: answered ? (response.statusText ?? null) : null,
    content_type: contentType ?? null,
    request_http_version: httpVersion(request.httpVersion),
    response_http_version: answered ? httpVersion(response.httpVersion) : null,
    request_headers: JSON.stringify(request.headers.map(({ name, value }) => [name, value])),
    response_headers: answered ? JSON.stringify(response.headers.map(({ name, value }) => [name, value])) : null,
    request_size: requestBody?.full_length ?? size(request.bodySize) ?? 0,
    response_size: answered ? (responseBody?.full_length ?? size(response.bodySize) ?? null) : null,
    duration_ms: (timings.end ?? start) - start,
    timings: JSON.stringify(timings),
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    incomplete: answered && error?.code === 'aborted' ? 1 : 0,
    synthetic: 0,
    tags: JSON.stringify(entry._tags ?? []),
    mode: entry._mode ?? null,
    user: null,
    client_address: '',
    client_port: 0,
    connection_id: Number.parseInt(String(entry.connection ?? '0'), 10) || 0,
    server_address: server || null,
    server_port: server ? defaultPort(url) : null,
    client_tls: entry._tls?.client ? JSON.stringify(entry._tls.client) : null,
    origin_tls: entry._tls?.origin ? JSON.stringify(entry._tls.origin) : null,
    tls_sni: tlsField(entry._tls?.client, 'sni') ?? tlsField(entry._tls?.origin, 'sni') ?? null,
    origin_cert_issuer: tlsField(entry._tls?.origin, 'certificate', 'issuer') ?? null,
    origin_cert_sha256: tlsField(entry._tls?.origin, 'certificate', 'sha256') ?? null,
    is_websocket: isWebSocket ? 1 : 0,
    is_sse: isSse ? 1 : 0,
    ws_omitted: 0,
  };
  const messages = (entry._webSocketMessages ?? [])
    .filter((message) => message.opcode === 1 || message.opcode === 2)
    .map((message, seq) => {
      const data = Buffer.from(message.data, message.opcode === 1 ? 'utf8' : 'base64');
      return {
        seq,
        direction: message.type === 'send' ? 'client-to-server' : 'server-to-client',
        time: message.time * 1000,
        type: message.opcode === 1 ? 'text' : 'binary',
        data,
        size: data.length,
        cut: message._truncated === true ? 1 : 0,
      };
    });
  const sseText = isSse && responseBody ? rowText(responseBody) : undefined;
  const events = sseText ? sseEvents(sseText) : [];
  return { flow, bodies: [requestBody, responseBody].filter((body) => body !== undefined), messages, events };
}

type HarBody = NonNullable<HarInputEntry['request']['postData']>;

/**
 * The milestones of an entry. Its phases are laid out in the order ours are (timing-phases.ts):
 * `send` (the proxy's work), then `blocked` (with `dns`) and `connect` (its last `ssl` ms the TLS
 * handshake) for a new connection, then `wait` and `receive`; so an entry of ours imports to the
 * flow it was written from, and any other to one whose HAR has the same phases.
 */
function importedTimings(entry: HarInputEntry, start: number): FlowTimings {
  const t = entry.timings ?? {};
  const positive = (value: number | undefined): number => (value !== undefined && value > 0 ? value : 0);
  const requestSent = start + positive(t.send);
  const connectStart = requestSent + positive(t.blocked) + positive(t.dns);
  const tlsEnd = connectStart + positive(t.connect);
  const responseStart = tlsEnd + positive(t.wait);
  const end = t.send === undefined && entry.time !== undefined ? start + entry.time : responseStart + positive(t.receive);
  const timings: FlowTimings = { start, requestSent, responseStart, end };
  if (t.connect === undefined || t.connect < 0) return timings;
  const ssl = t.ssl !== undefined && t.ssl >= 0 ? Math.min(t.ssl, t.connect) : undefined;
  const connectEnd = ssl === undefined ? tlsEnd : tlsEnd - ssl;
  return {
    ...timings,
    connection: 'new',
    connectStart,
    connectEnd,
    ...(ssl === undefined ? {} : { tlsStart: connectEnd, tlsEnd }),
  };
}

/** The string at `path` in a loosely read object, when there is one. */
function tlsField(value: unknown, ...path: string[]): string | undefined {
  let at = value;
  for (const name of path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[name] : undefined;
  return typeof at === 'string' ? at : undefined;
}

function bodyRow(
  side: BodyRowData['side'],
  body: HarBody | undefined,
  bodySize: number | undefined,
  contentType: string | undefined,
): BodyRowData | undefined {
  // No text: the exporter did not keep the body (Chrome leaves some out); an empty text is no body,
  // unless it marks a cut one; ours marks a request body that was never forwarded as `not recorded`.
  if (body?.text === undefined || body.comment?.startsWith('not recorded') === true) return undefined;
  if (body.text === '' && body._truncated !== true) return undefined;
  const raw = Buffer.from(body.text, body.encoding === 'base64' ? 'base64' : 'utf8');
  const cut = body._truncated === true;
  return {
    side,
    raw,
    content_encoding: null,
    ...textColumns(raw, { contentType, contentEncoding: undefined, cut, maxBytes: Math.max(raw.length, 2 ** 20) }),
    cut: cut ? 1 : 0,
    full_length: size(bodySize) ?? (cut ? null : raw.length),
  };
}

function header(headers: readonly { name: string; value: string }[], name: string): string | undefined {
  return headers.find((candidate) => candidate.name.toLowerCase() === name)?.value;
}

function mime(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === 'x-unknown' ? undefined : value;
}

function size(value: number | undefined): number | undefined {
  return value !== undefined && value >= 0 ? value : undefined;
}

/** `HTTP/1.1` → `1.1`; Chrome's `http/2.0`, `h2` and `h3` too; empty or unknown → `1.1`. */
function httpVersion(value: string | undefined): string {
  const version = (value ?? '').trim().replace(/^https?\//i, '');
  if (/^h2$/i.test(version)) return '2.0';
  if (/^h3$/i.test(version)) return '3';
  return /^\d(\.\d)?$/.test(version) ? version : '1.1';
}

function failure(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : 'no response was recorded';
}

function defaultPort(url: string): number {
  try {
    const parsed = new URL(url);
    return parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  } catch {
    return 0;
  }
}

function splitUrl(url: string): { host: string; path: string } {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase(), path: `${parsed.pathname}${parsed.search}` };
  } catch {
    return { host: '', path: url };
  }
}

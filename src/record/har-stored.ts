import { STATUS_CODES } from 'node:http';
import type { Creator, Header } from 'har-format';
import { harBodyText } from './har-body.js';
import { addTls, harTime, harTimings, noResponse, parseCookieHeader, parseSetCookie, queryOf } from './har-fields.js';
import type { Har, HarContent, HarEntry, HarPostData, HarRequest, HarResponse, HarWebSocketMessage } from './har-types.js';
import { headerValues } from './store/reader.js';
import type { HeaderPair, StoredBody, StoredFlow } from './store/types.js';

/**
 * Turns stored flows into a HAR 1.2 log, oldest request first: the same entries `toHar` writes for
 * the live flows they were recorded from (har.ts), field for field, so a session exported from a
 * store reads like one written by `--har`.
 */
export function storedToHar(flows: readonly StoredFlow[], creator: Creator): Har {
  const entries = [...flows].sort((a, b) => a.startedAt - b.startedAt || a.id - b.id).map(storedEntry);
  return { log: { version: '1.2', creator: { name: creator.name, version: creator.version }, pages: [], entries } };
}

/** One stored flow as a HAR entry. */
export function storedEntry(flow: StoredFlow): HarEntry {
  const timings = harTimings(flow.timings);
  // A stored response is what the client got (the proxy's error answer too, error code beside it),
  // as har.ts writes it; a flow without one (a status alone: older stores' error rows) got none.
  const answered = flow.status !== undefined && flow.responseHttpVersion !== undefined;
  const entry: HarEntry = {
    startedDateTime: new Date(flow.timings.start).toISOString(),
    time: harTime(timings),
    request: harRequest(flow),
    response: answered ? harResponse(flow) : noResponse(),
    cache: {},
    timings,
    connection: String(flow.connectionId),
    _id: flow.proxyFlowId,
    _tags: [...flow.tags],
    _mode: flow.mode ?? 'regular',
  };
  if (flow.server) entry.serverIPAddress = flow.server.address;
  addTls(entry, flow.tls);
  if (flow.error) entry._error = { code: flow.error.code, message: flow.error.message };
  if (flow.isWebSocket) addMessages(entry, flow);
  return entry;
}

function harRequest(flow: StoredFlow): HarRequest {
  const body = flow.requestBody;
  const headers = flow.requestHeaders;
  const declared = declared_(headers);
  const data = body?.raw ?? Buffer.alloc(0);
  const cut = body?.cut ?? false;
  const unrecorded = body === undefined && declared !== undefined && declared > 0;
  const out: HarRequest = {
    method: flow.method,
    url: flow.url,
    httpVersion: `HTTP/${flow.requestHttpVersion}`,
    cookies: headerValues(headers, 'cookie').flatMap(parseCookieHeader),
    headers: harHeaders(headers),
    queryString: queryOf(flow.url),
    headersSize: -1,
    bodySize: cut || unrecorded ? (declared ?? -1) : (body?.fullLength ?? data.length),
  };
  if (body !== undefined || unrecorded) {
    const mimeType = headerValues(headers, 'content-type')[0] ?? '';
    const text = harBodyText(data, { contentEncoding: body?.contentEncoding ?? '', mimeType, truncated: cut });
    const postData: HarPostData = { mimeType, text: text.text };
    if (text.encoding) postData.encoding = text.encoding;
    if (!text.encoding && !unrecorded && /^application\/x-www-form-urlencoded\b/i.test(mimeType)) {
      postData.params = [...new URLSearchParams(text.text)].map(([name, value]) => ({ name, value }));
    }
    if (text.comment) postData.comment = text.comment;
    if (unrecorded) postData.comment = 'not recorded: the body was not forwarded (a hook answered, or the exchange failed first)';
    if (cut || unrecorded) postData._truncated = true;
    out.postData = postData;
  }
  return out;
}

function harResponse(flow: StoredFlow): HarResponse {
  const headers = flow.responseHeaders;
  const body: StoredBody | undefined = flow.responseBody;
  const data = body?.raw ?? Buffer.alloc(0);
  const cut = body?.cut ?? false;
  const mimeType = headerValues(headers, 'content-type')[0] ?? '';
  const text = harBodyText(data, { contentEncoding: body?.contentEncoding ?? '', mimeType, truncated: cut });
  const declared = declared_(headers);
  const bodySize = cut ? (declared ?? -1) : (body?.fullLength ?? data.length);
  // Stored headers are those sent: a replaced body's Content-Encoding is already gone from them.
  const encoded = headerValues(headers, 'content-encoding')
    .join(',')
    .split(',')
    .some((coding) => !['', 'identity'].includes(coding.trim().toLowerCase()));
  const content: HarContent = {
    size: cut && !encoded && declared !== undefined ? declared : text.size,
    mimeType: mimeType || 'x-unknown',
    text: text.text,
  };
  if (text.encoding) content.encoding = text.encoding;
  if (encoded && text.decoded && !cut && content.size >= bodySize) content.compression = content.size - bodySize;
  if (text.comment) content.comment = text.comment;
  if (cut) content._truncated = true;
  const status = flow.status ?? 0;
  return {
    status,
    statusText: flow.statusMessage ?? STATUS_CODES[status] ?? '',
    httpVersion: `HTTP/${flow.responseHttpVersion ?? '1.1'}`,
    cookies: headerValues(headers, 'set-cookie').map((line) => parseSetCookie(line, flow.timings.responseStart ?? flow.timings.start)),
    headers: harHeaders(headers),
    content,
    redirectURL: headerValues(headers, 'location')[0] ?? '',
    headersSize: -1,
    bodySize,
  };
}

/** WebSocket messages as har-websocket.ts writes them (Chrome's shape). */
function addMessages(entry: HarEntry, flow: StoredFlow): void {
  entry._resourceType = 'websocket';
  entry.request.url = entry.request.url.replace(/^http(s?):/i, 'ws$1:');
  entry._webSocketMessages = flow.webSocketMessages.map((message) => {
    const out: HarWebSocketMessage = {
      type: message.direction === 'client-to-server' ? 'send' : 'receive',
      time: message.time / 1000,
      opcode: message.type === 'text' ? 1 : 2,
      data: message.type === 'text' ? message.data.toString('utf8') : message.data.toString('base64'),
    };
    if (message.cut) out._truncated = true;
    return out;
  });
}

function harHeaders(pairs: readonly HeaderPair[]): Header[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

function declared_(headers: readonly HeaderPair[]): number | undefined {
  const value = headerValues(headers, 'content-length')[0];
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

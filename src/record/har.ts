import { STATUS_CODES } from 'node:http';
import type { Flow, FlowRequest, FlowResponse, FlowTimings } from '../flow/flow.js';
import { setRawHeader, valuesOf, withoutRawHeader } from '../flow/header-map.js';
import { harBodyText } from './har-body.js';
import {
  addTls,
  declaredLength,
  first,
  harTime,
  harTimings,
  noResponse,
  parseCookieHeader,
  parseSetCookie,
  queryOf,
} from './har-fields.js';
import { addWebSocketMessages } from './har-websocket.js';
import type { Creator, Header } from 'har-format';
import type { Har, HarContent, HarEntry, HarPostData, HarRequest, HarResponse } from './har-types.js';

/**
 * Turns recorded flows into a HAR 1.2 log, oldest request first, that Chrome DevTools (Network →
 * Import HAR) and other viewers open. Headers are in wire order as sent after hooks; bodies are
 * content-decoded, as far as `recordBodyLimit` kept them (`_truncated` marks the rest as missing).
 */
export function toHar(flows: readonly Flow[], creator: Creator): Har {
  const entries = [...flows].sort((a, b) => a.timings.start - b.timings.start || a.id - b.id).map(toEntry);
  return { log: { version: '1.2', creator: { name: creator.name, version: creator.version }, pages: [], entries } };
}

function toEntry(flow: Flow): HarEntry {
  const timings = harTimings(flow.timings);
  // flow.response is what the client got: after a failure, the proxy's own answer (a 502 with
  // x-mitm-error: phases.ts), with the code in _error. Status 0, as DevTools' "(failed)", is kept
  // for an exchange the client got no answer to (HAR 1.2: a reset, a client that left first).
  const answered = flow.response !== undefined;
  const entry: HarEntry = {
    startedDateTime: new Date(flow.timings.start).toISOString(),
    time: harTime(timings),
    request: harRequest(flow.request),
    response: answered && flow.response ? harResponse(flow.response, flow.timings) : noResponse(),
    cache: {},
    timings,
    connection: String(flow.connectionId),
    _id: flow.id,
    _tags: flow.tagList(),
    _mode: flow.mode,
  };
  if (flow.server) entry.serverIPAddress = flow.server.address;
  addTls(entry, flow.tls);
  if (flow.error) entry._error = { code: flow.error.code, message: flow.error.message };
  else if (!answered) entry._error = { code: 'aborted', message: 'the connection closed before a response was sent' };
  // Status, headers and the body as far as it went stay: what the client got before the cut.
  else if (flow.incomplete) entry._error = { code: 'aborted', message: 'the connection closed before the response was complete' };
  if (flow.webSocket) addWebSocketMessages(entry, flow.webSocket);
  return entry;
}

function harRequest(request: FlowRequest): HarRequest {
  const recorded = request.bodyStore.recorded();
  const declared = declaredLength(request.headers);
  // Bodies are recorded as they are forwarded; one a hook answered without forwarding never was.
  const unrecorded = recorded.data.length === 0 && !recorded.truncated && declared !== undefined && declared > 0;
  const out: HarRequest = {
    method: request.method,
    url: request.url,
    httpVersion: `HTTP/${request.httpVersion}`,
    cookies: valuesOf(request.headers.cookie).flatMap(parseCookieHeader),
    headers: headersAsSent(request.wireHeaders(), request.bodyStore.replaced, recorded),
    queryString: queryOf(request.url),
    headersSize: -1,
    bodySize: recorded.truncated || unrecorded ? (declared ?? -1) : recorded.data.length,
  };
  if (recorded.data.length > 0 || recorded.truncated || unrecorded) {
    const mimeType = first(request.headers['content-type']) ?? '';
    const body = harBodyText(recorded.data, {
      contentEncoding: request.bodyStore.replaced ? '' : valuesOf(request.headers['content-encoding']).join(','),
      mimeType,
      truncated: recorded.truncated,
    });
    const postData: HarPostData = { mimeType, text: body.text };
    if (body.encoding) postData.encoding = body.encoding;
    if (!body.encoding && !unrecorded && /^application\/x-www-form-urlencoded\b/i.test(mimeType)) {
      postData.params = [...new URLSearchParams(body.text)].map(([name, value]) => ({ name, value }));
    }
    if (body.comment) postData.comment = body.comment;
    if (unrecorded) postData.comment = 'not recorded: the body was not forwarded (a hook answered, or the exchange failed first)';
    if (recorded.truncated || unrecorded) postData._truncated = true;
    out.postData = postData;
  }
  return out;
}

function harResponse(response: FlowResponse, timings: FlowTimings): HarResponse {
  const recorded = response.bodyStore.recorded();
  const mimeType = first(response.headers['content-type']) ?? '';
  const contentEncoding = response.bodyStore.replaced ? '' : valuesOf(response.headers['content-encoding']).join(',');
  const body = harBodyText(recorded.data, { contentEncoding, mimeType, truncated: recorded.truncated });
  const declared = declaredLength(response.headers);
  const bodySize = recorded.truncated ? (declared ?? -1) : recorded.data.length;
  const encoded = contentEncoding.split(',').some((coding) => !['', 'identity'].includes(coding.trim().toLowerCase()));
  const content: HarContent = {
    // Unencoded and cut short: the declared length is the whole body's decoded size.
    size: recorded.truncated && !encoded && declared !== undefined ? declared : body.size,
    mimeType: mimeType || 'x-unknown',
    text: body.text,
  };
  if (body.encoding) content.encoding = body.encoding;
  if (encoded && body.decoded && !recorded.truncated && content.size >= bodySize) content.compression = content.size - bodySize;
  if (body.comment) content.comment = body.comment;
  if (recorded.truncated) content._truncated = true;
  return {
    status: response.status,
    statusText: response.statusMessage ?? STATUS_CODES[response.status] ?? '',
    httpVersion: `HTTP/${response.httpVersion}`,
    cookies: valuesOf(response.headers['set-cookie']).map((line) => parseSetCookie(line, timings.responseStart ?? timings.start)),
    headers: headersAsSent(response.wireHeaders(), response.bodyStore.replaced, recorded),
    content,
    redirectURL: first(response.headers.location) ?? '',
    headersSize: -1,
    bodySize,
  };
}

/** The header list as it went on the wire, including the framing the proxy restates for a replaced body. */
function headersAsSent(wire: string[], replaced: boolean, recorded: { readonly data: Buffer; readonly truncated: boolean }): Header[] {
  if (replaced) {
    // Replacements are sent unencoded with an exact length (src/exchange/framing.ts).
    wire = withoutRawHeader(wire, 'content-encoding');
    if (!recorded.truncated) wire = setRawHeader(wire, 'Content-Length', String(recorded.data.length));
  }
  const pairs: Header[] = [];
  for (let i = 0; i + 1 < wire.length; i += 2) pairs.push({ name: wire[i] as string, value: wire[i + 1] as string });
  return pairs;
}

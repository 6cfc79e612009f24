import type { Flow, FlowRequest, FlowResponse } from '../../flow/flow.js';
import { setRawHeader, withoutRawHeader } from '../../flow/header-map.js';
import { eventsOf } from '../../flow/sse.js';
import { rowText, textColumns } from './body-text.js';
import type { AppendExtra } from './types.js';

/** The `flows` row of one flow, named as the INSERT binds it. */
export interface FlowRowData {
  proxy_flow_id: number;
  started_at: number;
  method: string;
  url: string;
  host: string;
  path: string;
  status: number | null;
  status_message: string | null;
  content_type: string | null;
  request_http_version: string;
  response_http_version: string | null;
  request_headers: string;
  response_headers: string | null;
  request_size: number | null;
  response_size: number | null;
  duration_ms: number | null;
  timings: string;
  error_code: string | null;
  error_message: string | null;
  incomplete: number;
  synthetic: number;
  tags: string;
  mode: string | null;
  user: string | null;
  client_address: string;
  client_port: number;
  connection_id: number;
  server_address: string | null;
  server_port: number | null;
  client_tls: string | null;
  origin_tls: string | null;
  tls_sni: string | null;
  origin_cert_issuer: string | null;
  origin_cert_sha256: string | null;
  is_websocket: number;
  is_sse: number;
  ws_omitted: number;
}

/** A `bodies` row without its flow id. */
export interface BodyRowData {
  side: 'request' | 'response';
  raw: Buffer;
  content_encoding: string | null;
  /** The decoded text; NULL when there is none, or when `text_is_raw` says `raw` is the text. */
  text: string | null;
  /** 1 when the body's text is `raw` itself (a textual body, uncoded, whole, valid UTF-8): kept once. */
  text_is_raw: number;
  cut: number;
  full_length: number | null;
}

/** Everything one flow writes. */
export interface FlowRows {
  readonly flow: FlowRowData;
  readonly bodies: BodyRowData[];
  readonly messages: { seq: number; direction: string; time: number; type: string; data: Buffer; size: number; cut: number }[];
  readonly events: { seq: number; event: string | null; data: string; last_id: string | null; retry: number | null }[];
}

/** Turns a finished flow into its rows; bodies longer than `bodyLimit` are cut and marked. */
export function flowRows(flow: Flow, extra: AppendExtra, bodyLimit: number): FlowRows {
  const { request, response } = flow;
  const target = splitUrl(request.url);
  const contentType = response?.header('content-type');
  const requestBody = bodyRow('request', request, bodyLimit);
  const responseBody = response ? bodyRow('response', response, bodyLimit) : undefined;
  const isSse = /^text\/event-stream\b/i.test(contentType ?? '');
  const error = extra.error ?? (flow.error ? { code: flow.error.code, message: flow.error.message } : implicitError(flow));
  const timings = flow.timings;
  const tls = extra.tls ?? flow.tls;
  const row: FlowRowData = {
    proxy_flow_id: flow.id,
    started_at: timings.start,
    method: request.method,
    url: request.url,
    host: target.host,
    path: target.path,
    status: 'status' in extra ? (extra.status ?? null) : (response?.status ?? flow.error?.status ?? null),
    status_message: response?.statusMessage ?? null,
    content_type: contentType ?? null,
    request_http_version: request.httpVersion,
    response_http_version: response?.httpVersion ?? null,
    request_headers: JSON.stringify(pairs(headersAsSent(request))),
    response_headers: response ? JSON.stringify(pairs(headersAsSent(response))) : null,
    request_size: requestBody ? requestBody.full_length : unrecordedLength(request),
    response_size: extra.responseBytes ?? responseBody?.full_length ?? null,
    duration_ms: extra.durationMs ?? (timings.end !== undefined ? timings.end - timings.start : null),
    timings: JSON.stringify(timings),
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    incomplete: flow.incomplete ? 1 : 0,
    synthetic: response?.synthetic ? 1 : 0,
    tags: JSON.stringify(flow.tagList()),
    mode: extra.mode ?? null,
    user: flow.client.user ?? null,
    client_address: flow.client.address,
    client_port: flow.client.port,
    connection_id: flow.connectionId,
    server_address: flow.server?.address ?? null,
    server_port: flow.server?.port ?? null,
    client_tls: tls?.client ? jsonOnce(tls.client) : null,
    origin_tls: tls?.origin ? jsonOnce(tls.origin) : null,
    tls_sni: tls?.client?.sni ?? tls?.origin?.sni ?? null,
    origin_cert_issuer: tls?.origin?.certificate?.issuer ?? null,
    origin_cert_sha256: tls?.origin?.certificate?.sha256 ?? null,
    is_websocket: flow.webSocket ? 1 : 0,
    is_sse: isSse ? 1 : 0,
    ws_omitted: flow.webSocket?.omitted ?? 0,
  };
  const messages = (flow.webSocket?.messages ?? []).map((message, seq) => ({
    seq,
    direction: message.direction,
    time: message.time,
    type: message.type,
    data: message.data.length > bodyLimit ? message.data.subarray(0, bodyLimit) : message.data,
    size: message.size,
    cut: message.truncated || message.data.length > bodyLimit ? 1 : 0,
  }));
  const sseText = isSse && responseBody ? rowText(responseBody) : undefined;
  const events = sseText ? sseEvents(sseText) : [];
  return { flow: row, bodies: [requestBody, responseBody].filter((body) => body !== undefined), messages, events };
}

function bodyRow(side: 'request' | 'response', message: FlowRequest | FlowResponse, bodyLimit: number): BodyRowData | undefined {
  const recorded = message.bodyStore.recorded();
  if (recorded.data.length === 0 && !recorded.truncated) return undefined;
  const cutHere = recorded.data.length > bodyLimit;
  const raw = cutHere ? recorded.data.subarray(0, bodyLimit) : recorded.data;
  const cut = cutHere || recorded.truncated;
  const declared = Number(message.header('content-length') ?? Number.NaN);
  const contentEncoding = message.bodyStore.replaced ? undefined : message.headerValues('content-encoding').join(',') || undefined;
  const text = textColumns(raw, {
    contentType: message.header('content-type'),
    contentEncoding,
    cut,
    maxBytes: Math.max(bodyLimit, 1024 * 1024),
  });
  return {
    side,
    raw,
    content_encoding: contentEncoding ?? null,
    ...text,
    cut: cut ? 1 : 0,
    full_length: recorded.truncated ? (Number.isSafeInteger(declared) ? declared : null) : recorded.data.length,
  };
}

/** The length of a request body that was not recorded: its Content-Length, 0 without one, unknown when chunked. */
function unrecordedLength(request: FlowRequest): number | null {
  const declared = Number(request.header('content-length') ?? Number.NaN);
  if (Number.isSafeInteger(declared)) return declared;
  return request.header('transfer-encoding') === undefined ? 0 : null;
}

/** What the client saw when the flow has no error of its own: `aborted` if the answer never went out whole. */
function implicitError(flow: Flow): { code: string; message: string } | undefined {
  if (!flow.response) return { code: 'aborted', message: 'the connection closed before a response was sent' };
  if (flow.incomplete) return { code: 'aborted', message: 'the connection closed before the response was complete' };
  return undefined;
}

/** The header list as it went on the wire, including the framing the proxy restates for a replaced body. */
function headersAsSent(message: FlowRequest | FlowResponse): string[] {
  let wire = message.wireHeaders();
  if (!message.bodyStore.replaced) return wire;
  const recorded = message.bodyStore.recorded();
  wire = withoutRawHeader(wire, 'content-encoding');
  return recorded.truncated ? wire : setRawHeader(wire, 'Content-Length', String(recorded.data.length));
}

// A connection's TLS facts are one object shared by every flow it carries (flow/tls-facts.ts), and
// the origin side with its certificate chain is ~600 characters of JSON: made once per connection.
const factsJson = new WeakMap<object, string>();

function jsonOnce(facts: object): string {
  let json = factsJson.get(facts);
  if (json === undefined) {
    json = JSON.stringify(facts);
    factsJson.set(facts, json);
  }
  return json;
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

function splitUrl(url: string): { host: string; path: string } {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.toLowerCase(), path: `${parsed.pathname}${parsed.search}` };
  } catch {
    return { host: '', path: url };
  }
}

/** The server-sent events of a decoded `text/event-stream` body, as `sse_events` rows. */
export function sseEvents(text: string): FlowRows['events'] {
  return eventsOf(text).map((event, seq) => ({
    seq,
    event: event.event ?? null,
    data: event.data,
    last_id: event.id ?? null,
    retry: event.retry ?? null,
  }));
}

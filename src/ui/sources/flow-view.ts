import { timingPhases } from '../../flow/timing-phases.js';
import type { Flow, FlowRequest, FlowResponse } from '../../flow/flow.js';
import { valuesOf } from '../../flow/header-map.js';
import { eventsOf } from '../../flow/sse.js';
import type { FlowRecord } from '../../events.js';
import type { FlowDetail, FlowSummary, MessageView } from '../api-types.js';
import { bodyView, declaredLength, headerPairs, mediaType } from './body-view.js';

/** The list row of a live Flow; `record` (the 'flow' event) adds what the Flow does not know. */
export function summaryOfFlow(flow: Flow, record: FlowRecord | undefined): FlowSummary {
  const { request, response } = flow;
  const url = record?.url ?? request.url;
  const { host, path } = hostAndPath(url);
  const end = flow.timings.end;
  const error = record?.error ?? (flow.error ? { code: flow.error.code, message: flow.error.message } : undefined);
  return {
    id: flow.id,
    method: request.method,
    url,
    host,
    path,
    status: record ? record.status : response?.status,
    type: mediaType(record?.contentType ?? response?.header('content-type')),
    size: record?.responseBytes ?? (response ? sentSize(response) : undefined),
    durationMs: record?.durationMs ?? (end === undefined ? undefined : end - flow.timings.start),
    start: flow.timings.start,
    error: error ?? (flow.incomplete ? { code: 'aborted', message: 'the response did not reach the client whole' } : undefined),
    incomplete: flow.incomplete,
    synthetic: response?.synthetic ?? false,
    tags: flow.tagList(),
    webSocket: flow.webSocket !== undefined || response?.status === 101,
  };
}

/** The list row of a flow known only by its 'flow' event (not kept in the ring). */
export function summaryOfRecord(record: FlowRecord): FlowSummary {
  const { host, path } = hostAndPath(record.url);
  return {
    id: record.id,
    method: record.method,
    url: record.url,
    host,
    path,
    status: record.status,
    type: mediaType(record.contentType),
    size: record.responseBytes,
    durationMs: record.durationMs,
    start: Date.now() - record.durationMs,
    error: record.error,
    incomplete: record.error?.code === 'aborted',
    synthetic: false,
    tags: [],
    webSocket: record.status === 101,
  };
}

/** Everything the page shows of a live Flow. */
export function detailOfFlow(flow: Flow, record: FlowRecord | undefined): FlowDetail {
  const { request, response } = flow;
  const log = flow.webSocket;
  const messages: MessageView[] | undefined = log?.messages.map((message) => ({
    direction: message.direction,
    type: message.type,
    time: message.time,
    size: message.size,
    cut: message.truncated,
    ...(message.type === 'text' ? { text: message.data.toString('utf8') } : { base64: message.data.toString('base64') }),
  }));
  const responseBody = response ? messageBody(response) : undefined;
  const eventStream = mediaType(response?.header('content-type')) === 'text/event-stream';
  return {
    ...summaryOfFlow(flow, record),
    requestHttpVersion: request.httpVersion,
    responseHttpVersion: response?.httpVersion,
    statusMessage: response?.statusMessage,
    requestHeaders: headerPairs(request.wireHeaders()),
    responseHeaders: response ? headerPairs(response.wireHeaders()) : [],
    requestBody: messageBody(request),
    responseBody,
    events: eventStream && responseBody?.text !== undefined ? eventsOf(responseBody.text) : undefined,
    timings: { ...flow.timings },
    phases: timingPhases(flow.timings),
    tls: flow.tls,
    client: { address: flow.client.address, port: flow.client.port, user: flow.client.user },
    server: flow.server,
    mode: record?.mode ?? flow.mode,
    messages,
    messagesOmitted: log?.omitted,
  };
}

function messageBody(message: FlowRequest | FlowResponse): FlowDetail['requestBody'] {
  const recorded = message.bodyStore.recorded();
  const replaced = message.bodyStore.replaced;
  const headers = headerPairs(message.wireHeaders());
  return bodyView(recorded.data, {
    contentEncoding: replaced ? '' : valuesOf(message.headers['content-encoding']).join(','),
    contentType: message.header('content-type'),
    cut: recorded.truncated,
    fullLength: recorded.truncated ? declaredLength(headers) : recorded.data.length,
  });
}

function sentSize(response: FlowResponse): number | undefined {
  const recorded = response.bodyStore.recorded();
  if (response.bodyStore.recordLimit > 0 && !recorded.truncated) return recorded.data.length;
  return declaredLength(headerPairs(response.wireHeaders()));
}

/** Host (no port) and path with query of an absolute URL. */
export function hostAndPath(url: string): { host: string; path: string } {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), path: parsed.pathname + parsed.search };
  } catch {
    return { host: '', path: url };
  }
}

import { timingPhases } from '../../flow/timing-phases.js';
import { isEventStream, sniOf, type FilterSubject } from '../../record/filter/subject.js';
import type { FlowRow, StoredBody, StoredFlow, StoredFlowHead } from '../../record/store/types.js';
import type { BodyView, FlowDetail, FlowSummary } from '../api-types.js';
import { bodyView, mediaType } from './body-view.js';

/** The list row of a stored flow (its store id is the row id). */
export function summaryOfStored(head: StoredFlowHead): FlowSummary {
  return {
    id: head.id,
    method: head.method,
    url: head.url,
    host: head.host,
    path: head.path,
    status: head.status,
    type: mediaType(head.contentType),
    size: head.responseSize,
    durationMs: head.durationMs,
    start: head.startedAt,
    error: head.error,
    incomplete: head.incomplete,
    synthetic: head.synthetic,
    tags: head.tags,
    webSocket: head.isWebSocket,
  };
}

/** Everything the page shows of a stored flow. */
export function detailOfStored(flow: StoredFlow): FlowDetail {
  return {
    ...summaryOfStored(flow),
    requestHttpVersion: flow.requestHttpVersion,
    responseHttpVersion: flow.responseHttpVersion,
    statusMessage: flow.statusMessage,
    requestHeaders: flow.requestHeaders,
    responseHeaders: flow.responseHeaders,
    requestBody: storedBody(flow.requestBody, headerValue(flow.requestHeaders, 'content-type')),
    responseBody: storedBody(flow.responseBody, flow.contentType),
    timings: { ...flow.timings },
    phases: timingPhases(flow.timings),
    tls: flow.tls,
    client: flow.client,
    server: flow.server,
    mode: flow.mode,
    messages: flow.webSocketMessages.map((message) => ({
      direction: message.direction,
      type: message.type,
      time: message.time,
      size: message.size,
      cut: message.cut,
      ...(message.type === 'text' ? { text: message.data.toString('utf8') } : { base64: message.data.toString('base64') }),
    })),
    messagesOmitted: flow.webSocketOmitted,
    events: flow.isSse ? flow.sseEvents.map(({ event, data, id }) => ({ event, data, id })) : undefined,
  };
}

/** What a filter looks at for a store row; bodies are read only when a `req:`/`res:` term asks. */
export function subjectOfRow(row: FlowRow): FilterSubject {
  const flat = (pairs: StoredFlowHead['requestHeaders']): string[] => pairs.flat();
  let path = row.path;
  const query = path.indexOf('?');
  if (query >= 0) path = path.slice(0, query);
  return {
    method: row.method,
    url: row.url,
    host: row.host,
    path,
    status: row.status,
    contentType: row.contentType,
    requestHeaders: flat(row.requestHeaders),
    responseHeaders: row.status === undefined ? undefined : flat(row.responseHeaders),
    requestBody: () => row.requestText(),
    responseBody: () => row.responseText(),
    responseSize: row.responseSize,
    durationMs: row.durationMs,
    errorCode: row.error?.code,
    mode: row.mode,
    user: row.user,
    sni: sniOf(row.tls),
    isWebSocket: row.isWebSocket,
    isSse: row.isSse || isEventStream(row.contentType),
  };
}

function storedBody(body: StoredBody | undefined, contentType: string | undefined): BodyView | undefined {
  if (body === undefined) return undefined;
  return bodyView(body.raw, { contentEncoding: body.contentEncoding ?? '', contentType, cut: body.cut, fullLength: body.fullLength });
}

/** The first value of a header in a pair list (case-insensitive name). */
export function headerValue(headers: StoredFlowHead['requestHeaders'], name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

import type { Flow, FlowRequest, FlowResponse } from '../../flow/flow.js';
import { harBodyText } from '../har-body.js';
import { isEventStream, sniOf, urlParts, type FilterSubject } from './subject.js';

/** What a Flow does not know about itself: its listener, and how it was delivered. */
export interface FlowFacts {
  readonly mode?: string | undefined;
  readonly responseSize?: number | undefined;
  readonly durationMs?: number | undefined;
}

/**
 * The subject of a live or recorded Flow (hooks, the in-memory ring). Headers are the ones on the
 * wire after hooks; bodies are the recorded ones (up to --record-body-limit), decoded on first
 * use. Without `facts`, the size is the recorded body's when it was kept whole (else Content-Length), and the duration
 * runs to the flow's end (or undefined before it).
 */
export function subjectOfFlow(flow: Flow, facts: FlowFacts = {}): FilterSubject {
  const { request, response } = flow;
  const contentType = response?.header('content-type');
  const end = flow.timings.end;
  // Built on first use: most filters never look at the headers or the URL's parts, and a live
  // inspector makes a subject of every flow (docs/performance.md).
  let parts: { readonly host: string; readonly path: string } | undefined;
  let requestHeaders: readonly string[] | undefined;
  let responseHeaders: { readonly list: readonly string[] | undefined } | undefined;
  return {
    method: request.method,
    url: request.url,
    get host() {
      parts ??= urlParts(request.url);
      return parts.host;
    },
    get path() {
      parts ??= urlParts(request.url);
      return parts.path;
    },
    status: response?.status,
    contentType,
    get requestHeaders() {
      requestHeaders ??= request.wireHeaders();
      return requestHeaders;
    },
    get responseHeaders() {
      responseHeaders ??= { list: response?.wireHeaders() };
      return responseHeaders.list;
    },
    requestBody: once(() => bodyText(request)),
    responseBody: once(() => (response ? bodyText(response) : undefined)),
    responseSize: facts.responseSize ?? (response ? sentSize(response) : undefined),
    durationMs: facts.durationMs ?? (end === undefined ? undefined : end - flow.timings.start),
    errorCode: flow.error?.code ?? (flow.incomplete ? 'aborted' : undefined),
    mode: facts.mode ?? flow.mode,
    user: flow.client.user,
    sni: sniOf(flow.tls),
    isWebSocket: flow.webSocket !== undefined || response?.status === 101,
    isSse: isEventStream(contentType),
  };
}

function bodyText(message: FlowRequest | FlowResponse): string | undefined {
  const recorded = message.bodyStore.recorded();
  if (recorded.data.length === 0) return undefined;
  const encoding = message.bodyStore.replaced ? '' : message.headerValues('content-encoding').join(',');
  const mimeType = message.header('content-type') ?? '';
  const body = harBodyText(recorded.data, { contentEncoding: encoding, mimeType, truncated: recorded.truncated });
  return body.encoding === undefined ? body.text : undefined;
}

/** The response body's size on the wire: the recording when it kept the body whole, else Content-Length. */
function sentSize(response: FlowResponse): number | undefined {
  const recorded = response.bodyStore.recorded();
  if (response.bodyStore.recordLimit > 0 && !recorded.truncated) return recorded.data.length;
  const declared = response.header('content-length')?.trim() ?? '';
  return /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
}

function once<T>(get: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) [value, done] = [get(), true];
    return value as T;
  };
}

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
  return new FlowSubject(flow, facts);
}

// A class rather than an object literal with getters and closures: a live inspector makes one
// per flow, and the literal cost a dozen functions and a context each (docs/performance.md).
// What most filters never read (the URL's parts, header lists, bodies) is built on first use.
class FlowSubject implements FilterSubject {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  readonly responseSize: number | undefined;
  readonly durationMs: number | undefined;
  readonly errorCode: string | undefined;
  readonly mode: string | undefined;
  readonly user: string | undefined;
  readonly sni: string | undefined;
  readonly isWebSocket: boolean;
  readonly isSse: boolean;
  readonly #flow: Flow;
  #parts: { readonly host: string; readonly path: string } | undefined;
  #requestHeaders: readonly string[] | undefined;
  #responseHeaders: { readonly list: readonly string[] | undefined } | undefined;
  #requestBody: { readonly text: string | undefined } | undefined;
  #responseBody: { readonly text: string | undefined } | undefined;

  constructor(flow: Flow, facts: FlowFacts) {
    const { request, response } = flow;
    const contentType = response?.header('content-type');
    const end = flow.timings.end;
    this.#flow = flow;
    this.method = request.method;
    this.url = request.url;
    this.status = response?.status;
    this.contentType = contentType;
    this.responseSize = facts.responseSize ?? (response ? sentSize(response) : undefined);
    this.durationMs = facts.durationMs ?? (end === undefined ? undefined : end - flow.timings.start);
    this.errorCode = flow.error?.code ?? (flow.incomplete ? 'aborted' : undefined);
    this.mode = facts.mode ?? flow.mode;
    this.user = flow.client.user;
    this.sni = sniOf(flow.tls);
    this.isWebSocket = flow.webSocket !== undefined || response?.status === 101;
    this.isSse = isEventStream(contentType);
  }

  get host(): string {
    this.#parts ??= urlParts(this.url);
    return this.#parts.host;
  }

  get path(): string {
    this.#parts ??= urlParts(this.url);
    return this.#parts.path;
  }

  get requestHeaders(): readonly string[] {
    this.#requestHeaders ??= this.#flow.request.wireHeaders();
    return this.#requestHeaders;
  }

  get responseHeaders(): readonly string[] | undefined {
    this.#responseHeaders ??= { list: this.#flow.response?.wireHeaders() };
    return this.#responseHeaders.list;
  }

  requestBody(): string | undefined {
    this.#requestBody ??= { text: bodyText(this.#flow.request) };
    return this.#requestBody.text;
  }

  responseBody(): string | undefined {
    const response = this.#flow.response;
    this.#responseBody ??= { text: response ? bodyText(response) : undefined };
    return this.#responseBody.text;
  }
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

import type { FlowRow, HeaderPair, StoredFlow } from '../store/types.js';
import { sniOf, urlParts, type FilterSubject } from './subject.js';

/**
 * The subject of a stored flow: a store row in a query (`FlowRow`, whose body texts are read from
 * the file only when a `req:`/`res:` term asks) or a whole `StoredFlow`. Headers are the stored
 * wire lists; bodies are the decoded text the store kept for textual types.
 */
export function subjectOfStored(flow: FlowRow | StoredFlow): FilterSubject {
  const bodies =
    'requestText' in flow
      ? { requestBody: () => flow.requestText(), responseBody: () => flow.responseText() }
      : { requestBody: () => flow.requestBody?.text, responseBody: () => flow.responseBody?.text };
  return {
    method: flow.method,
    url: flow.url,
    ...urlParts(flow.url),
    status: flow.status,
    contentType: flow.contentType,
    requestHeaders: flat(flow.requestHeaders),
    responseHeaders: flow.status === undefined && flow.responseHeaders.length === 0 ? undefined : flat(flow.responseHeaders),
    ...bodies,
    responseSize: flow.responseSize,
    durationMs: flow.durationMs,
    errorCode: flow.error?.code,
    mode: flow.mode,
    user: flow.user,
    sni: sniOf(flow.tls),
    isWebSocket: flow.isWebSocket || flow.status === 101,
    isSse: flow.isSse,
  };
}

function flat(pairs: readonly HeaderPair[]): string[] {
  const out: string[] = [];
  for (const [name, value] of pairs) out.push(name, value);
  return out;
}

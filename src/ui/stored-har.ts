import type { Creator } from 'har-format';
import type { Har, HarEntry } from '../record/har-types.js';
import type { StoredFlow } from '../record/store/types.js';
import { detailOfStored } from './stored-view.js';
import type { BodyView, HeaderPair } from './api-types.js';

/** Stored flows as a HAR 1.2 log (bodies decoded, as the page shows them), oldest first. */
export function storedToHar(flows: readonly StoredFlow[], creator: Creator): Har {
  return { log: { version: '1.2', creator: { name: creator.name, version: creator.version }, pages: [], entries: flows.map(entryOf) } };
}

function entryOf(flow: StoredFlow): HarEntry {
  const detail = detailOfStored(flow);
  const t = flow.timings;
  const end = Math.max(t.start, t.end ?? t.responseStart ?? t.requestSent ?? t.start);
  const sent = Math.min(end, t.requestSent ?? t.responseStart ?? end);
  const head = Math.min(end, Math.max(sent, t.responseStart ?? end));
  const url = new URL(flow.url);
  const entry: HarEntry = {
    startedDateTime: new Date(t.start).toISOString(),
    time: end - t.start,
    request: {
      method: flow.method,
      url: flow.url,
      httpVersion: `HTTP/${flow.requestHttpVersion}`,
      cookies: [],
      headers: harHeaders(flow.requestHeaders),
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      headersSize: -1,
      bodySize: flow.requestSize ?? -1,
      ...(detail.requestBody ? { postData: { mimeType: detail.requestBody.mimeType, text: detail.requestBody.text ?? '' } } : {}),
    },
    response: {
      status: flow.error ? 0 : (flow.status ?? 0),
      statusText: flow.statusMessage ?? '',
      httpVersion: `HTTP/${flow.responseHttpVersion ?? '1.1'}`,
      cookies: [],
      headers: harHeaders(flow.responseHeaders),
      content: content(detail.responseBody),
      redirectURL: '',
      headersSize: -1,
      bodySize: flow.responseSize ?? -1,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: sent - t.start, wait: head - sent, receive: end - head },
    connection: String(flow.connectionId),
    _tags: [...flow.tags],
    _mode: flow.mode ?? 'regular',
  };
  if (flow.server) entry.serverIPAddress = flow.server.address;
  if (flow.error) entry._error = { code: flow.error.code, message: flow.error.message };
  return entry;
}

function harHeaders(headers: readonly HeaderPair[]): Array<{ name: string; value: string }> {
  return headers.map(([name, value]) => ({ name, value }));
}

function content(body: BodyView | undefined): HarEntry['response']['content'] {
  if (body === undefined) return { size: 0, mimeType: '' };
  return body.base64 !== undefined
    ? { size: body.size, mimeType: body.mimeType, text: body.base64, encoding: 'base64' }
    : { size: body.size, mimeType: body.mimeType, text: body.text ?? '' };
}

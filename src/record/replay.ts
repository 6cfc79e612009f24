import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { ERROR_HEADER } from '../errors.js';
import { harBodyText } from './har-body.js';
import { resendHeaders } from './resend-headers.js';
import { headerValues } from './store/reader.js';
import type { StoredFlow } from './store/types.js';

/** `replay` options. */
export interface ReplayOptions {
  /** Send every request through this HTTP proxy (`http://127.0.0.1:8080`), e.g. a proxy recording to a store. */
  readonly through?: string | undefined;
  /** Extra CA certificates (PEM) to trust for origins: the proxy's `caCertPem` when going through an intercepting proxy. */
  readonly ca?: string | readonly string[] | undefined;
  /** Requests in flight at once (default 1: in recorded order). */
  readonly concurrency?: number | undefined;
  /** Time allowed for each exchange, in ms (default 30 000). */
  readonly timeoutMs?: number | undefined;
  /** Called as each request finishes, in completion order. */
  readonly onResult?: ((result: ReplayResult) => void) | undefined;
}

/** What sending one recorded request again gave, compared with the recording. */
export interface ReplayResult {
  readonly flow: StoredFlow;
  /** The new status; undefined when the request failed (`error`). */
  readonly status: number | undefined;
  /** Why no response came (connection refused, timeout), or why the request was not sent. */
  readonly error: string | undefined;
  /**
   * When a proxy on the way answered instead of the origin (its `x-mitm-error` header): the code
   * and the first line of its message, e.g. `upstream_tls: localhost:8443 presented …`.
   */
  readonly proxyError: string | undefined;
  readonly statusChanged: boolean;
  /**
   * Whether the decoded response body differs from the recorded one; undefined when it cannot be
   * told (the recording was cut, or either side has no response).
   */
  readonly bodyChanged: boolean | undefined;
  /** The new body's length on the wire. */
  readonly size: number | undefined;
  /** Neither the status nor the body changed, and the request did not fail. */
  readonly same: boolean;
}

/**
 * Sends recorded requests again (method, URL, headers without hop-by-hop and framing fields,
 * body) and compares each answer with its recording. Directly, or through a proxy (`through`,
 * trusting `ca`), `concurrency` at a time; results come back in the order of `flows`.
 */
export async function replay(flows: readonly StoredFlow[], options: ReplayOptions = {}): Promise<ReplayResult[]> {
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
  const tls = ca === undefined ? {} : { ca };
  const dispatcher: Dispatcher =
    options.through === undefined ? new Agent({ connect: tls }) : new ProxyAgent({ uri: options.through, requestTls: tls, proxyTls: tls });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const results: ReplayResult[] = new Array(flows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < flows.length) {
      const index = next++;
      const flow = flows[index] as StoredFlow;
      const result = await replayOne(flow, dispatcher, timeoutMs);
      results[index] = result;
      options.onResult?.(result);
    }
  };
  try {
    const workers = Math.max(1, Math.min(options.concurrency ?? 1, flows.length));
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    await dispatcher.close();
  }
  return results;
}

async function replayOne(flow: StoredFlow, dispatcher: Dispatcher, timeoutMs: number): Promise<ReplayResult> {
  const failed = (error: string): ReplayResult => ({
    flow,
    status: undefined,
    error,
    proxyError: undefined,
    statusChanged: true,
    bodyChanged: undefined,
    size: undefined,
    same: false,
  });
  const body = flow.requestBody;
  if (body?.cut) return failed(`not sent: the recorded request body was cut after ${body.raw.length} bytes`);
  if (flow.isWebSocket) return failed('not sent: WebSocket connections are not replayed');
  const headers = resendHeaders(flow.requestHeaders).flat();
  try {
    const response = await request(flow.url, {
      dispatcher,
      method: flow.method as Dispatcher.HttpMethod,
      headers,
      ...(body === undefined ? {} : { body: body.raw }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const raw = Buffer.from(await response.body.arrayBuffer());
    const responseHeaders = response.headers;
    const encoding = responseHeaders['content-encoding'];
    const status = response.statusCode;
    const statusChanged = status !== flow.status;
    const bodyChanged = compareBodies(flow, raw, Array.isArray(encoding) ? encoding.join(',') : (encoding ?? ''));
    const proxyError = proxyErrorOf(responseHeaders[ERROR_HEADER], raw);
    const same = !statusChanged && bodyChanged !== true;
    return { flow, status, error: undefined, proxyError, statusChanged, bodyChanged, size: raw.length, same };
  } catch (error) {
    return failed(error instanceof Error ? error.message || error.name : String(error));
  }
}

/** `code: first line of the message` when a proxy answered with its error header; undefined otherwise. */
function proxyErrorOf(code: string | string[] | undefined, body: Buffer): string | undefined {
  if (typeof code !== 'string') return undefined;
  const line = body.toString('utf8', 0, Math.min(body.length, 500)).split('\n', 1)[0]?.trim() ?? '';
  return line === '' ? code : `${code}: ${line}`;
}

/** Compares decoded bodies, so a re-compressed identical body is unchanged; undefined when the recording was cut or has no response. */
function compareBodies(flow: StoredFlow, raw: Buffer, contentEncoding: string): boolean | undefined {
  if (flow.status === undefined) return undefined;
  const recorded = flow.responseBody;
  if (recorded?.cut) return undefined;
  const mimeType = headerValues(flow.responseHeaders, 'content-type')[0] ?? '';
  const before =
    recorded === undefined
      ? ''
      : harBodyText(recorded.raw, { contentEncoding: recorded.contentEncoding ?? '', mimeType, truncated: false }).text;
  const after = raw.length === 0 ? '' : harBodyText(raw, { contentEncoding, mimeType, truncated: false }).text;
  return before !== after;
}

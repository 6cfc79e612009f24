import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { MitmError } from '../errors.js';
import type { FlowRecord } from './events.js';
import { respondWithError } from './error-response.js';
import { formatAuthority } from './target.js';
import { setRawHeader, stripHopByHop } from './headers.js';
import { classifyUpstreamError } from './upstream-error.js';
import type { OriginTarget, Upstream } from './upstream.js';

/** One request, resolved to where it goes, before anything is sent upstream. */
export interface Exchange {
  readonly id: number;
  readonly origin: OriginTarget;
  /** Request target as sent to the origin (origin-form: path and query, byte for byte). */
  readonly path: string;
  /** Value for the Host header. */
  readonly hostHeader: string;
  /** Absolute URL shown in logs and records. */
  readonly url: string;
  readonly client: FlowRecord['client'];
  /** `performance.now()` when the request head arrived. */
  readonly startedAt: number;
}

/** What forwarding needs from the running proxy. */
export interface ForwardDeps {
  readonly upstream: Upstream;
  readonly timeoutMs: number;
  readonly onFlow: (record: FlowRecord) => void;
}

/**
 * Sends `req` to the exchange's origin and streams the answer into `res`. Bodies are piped both
 * ways, so backpressure holds end to end: a slow client pauses the origin's response, a slow
 * origin pauses the client's upload, and nothing is buffered beyond the streams' high-water marks.
 */
export function forward(deps: ForwardDeps, exchange: Exchange, req: IncomingMessage, res: ServerResponse): void {
  const authority = formatAuthority(exchange.origin);
  const upstreamReq = deps.upstream.request(
    exchange.origin,
    req.method ?? 'GET',
    exchange.path,
    requestHeaders(req, exchange.hostHeader),
  );
  let responseBytes = 0;
  let contentType: string | undefined;
  let failure: MitmError | undefined;

  // The origin gets timeoutMs to connect and answer; the clock restarts while the upload flows,
  // so a large, slow upload is not mistaken for a silent origin.
  const timer = setTimeout(() => {
    upstreamReq.destroy(new MitmError('upstream_timeout', `${authority} did not answer within ${deps.timeoutMs} ms`));
  }, deps.timeoutMs);
  req.on('data', () => timer.refresh());

  upstreamReq.on('response', (upstreamRes) => {
    clearTimeout(timer);
    contentType = upstreamRes.headers['content-type'];
    res.sendDate = false;
    const head = stripHopByHop(upstreamRes.rawHeaders);
    if (upstreamRes.statusMessage) res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, head);
    else res.writeHead(upstreamRes.statusCode ?? 502, head);
    upstreamRes.on('data', (chunk: Buffer) => {
      responseBytes += chunk.length;
    });
    upstreamRes.on('close', () => {
      // The origin broke off mid-body: pass the break on rather than end a truncated body cleanly.
      if (!upstreamRes.complete) res.destroy();
    });
    upstreamRes.pipe(res);
  });

  upstreamReq.on('error', (error) => {
    clearTimeout(timer);
    // An error we caused by dropping the request after the client left has nobody to tell.
    if (res.destroyed) return;
    failure ??= classifyUpstreamError(error, authority);
    respondWithError(res, failure);
  });

  req.pipe(upstreamReq);

  res.on('close', () => {
    clearTimeout(timer);
    const finished = res.writableFinished;
    // The client went away first: free the origin connection instead of letting it drain to nobody.
    if (!finished) upstreamReq.destroy();
    deps.onFlow({
      id: exchange.id,
      method: req.method ?? 'GET',
      url: exchange.url,
      status: res.headersSent ? res.statusCode : undefined,
      contentType,
      responseBytes,
      durationMs: performance.now() - exchange.startedAt,
      error: failure
        ? { code: failure.code, message: failure.message }
        : finished
          ? undefined
          : { code: 'aborted', message: 'the connection closed before the response was complete' },
      client: exchange.client,
    });
  });
}

/** The client's headers minus hop-by-hop fields, with Host set and body framing restated for our hop. */
function requestHeaders(req: IncomingMessage, hostHeader: string): string[] {
  const headers = setRawHeader(stripHopByHop(req.rawHeaders), 'Host', hostHeader);
  // Transfer-Encoding is hop-by-hop, but a chunked body still needs chunked framing on our hop;
  // Node only chooses it by itself for methods that usually carry a body.
  if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined) {
    headers.push('Transfer-Encoding', 'chunked');
  }
  return headers;
}

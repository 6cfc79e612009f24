import { Readable } from 'node:stream';
import { isMitmError, MitmError } from '../errors.js';
import { Body } from '../flow/body.js';
import { Flow, FlowRequest, FlowResponse } from '../flow/flow.js';
import type { OutgoingBody } from '../flow/body.js';
import { decodeStream } from '../flow/decode.js';
import { getRawHeader, setRawHeader, valuesOf } from '../flow/header-map.js';
import { EventStreamParser, rewriteEventStream } from '../flow/sse.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import {
  addResponseTrailers,
  bodilessH2,
  clientFailure,
  clientGone,
  closeUploadOnceAnswered,
  endWithHead,
  hasNoBody,
  hasOpenEndedBody,
  isH2Response,
  openResponseBody,
  requestBody,
  requestRawHeaders,
  requestTrailers,
  responseCompleted,
  sendEarlyHints,
  type InboundRequest,
  type OutboundResponse,
} from './client-message.js';
import { respondWithError } from './error-response.js';
import { describeError, endFlow, type Delivery } from './flow-record.js';
import { runPhases } from './phases.js';
import { acceptsTrailers } from '../flow/h2-headers.js';
import type { FlowRecord, MessageRecord } from '../events.js';
import type { ClientTlsFacts } from '../flow/tls-facts.js';
import { frameBody } from './framing.js';
import { relayBody, type RelaySide } from './relay.js';
import { stripHopByHop } from './headers.js';
import { withVia } from './via.js';
import { formatAuthority } from '../net/target.js';
import { originOfUrl, type OriginTarget } from '../origin/origin-target.js';
import { classifyUpstreamError } from '../origin/upstream-error.js';
import type { Upstream } from '../origin/upstream.js';

/** What follows an origin's response head: its trailers, or nothing at all. */
interface OriginTail {
  /** Trailer fields (raw list), complete once the body has ended. */
  readonly trailers: () => readonly string[];
  /** The origin ended the response with its head: no body, no trailers (HTTP/2 END_STREAM). */
  readonly headOnly: boolean;
}

/** One request, resolved to where it goes, before any hook has run. */
export interface Exchange {
  readonly id: number;
  readonly origin: OriginTarget;
  /** Request target as sent to the origin (origin-form: path and query, byte for byte). */
  readonly path: string;
  /** Value for the Host header. */
  readonly hostHeader: string;
  /** Absolute URL shown to hooks, logs and records. */
  readonly url: string;
  readonly client: FlowRecord['client'];
  /** What TLS negotiated on the client connection; absent for plain HTTP. */
  readonly clientTls?: ClientTlsFacts | undefined;
  /** Sequence number of the client connection. */
  readonly connectionId: number;
  /** `performance.now()` when the request head arrived. */
  readonly startedAt: number;
}

/** What an exchange needs from the running proxy. */
export interface ExchangeDeps {
  readonly upstream: Upstream;
  readonly hooks: HookPipeline;
  readonly timeoutMs: number;
  readonly maxBodyBuffer: number;
  /** Bytes of each body kept with the flow for recording. */
  readonly recordBodyLimit: number;
  /** This proxy's Via marker (via.ts), added to every forwarded request; undefined with --no-via. */
  readonly viaMarker: string | undefined;
  /** Called once per flow when its response is sent or it broke off. */
  readonly onFlowEnd: (flow: Flow, record: FlowRecord) => void;
  /**
   * Where passing WebSocket messages and server-sent events go, or undefined when nobody listens
   * for them; asked per response (and per WebSocket), so a listener added later still counts.
   */
  readonly onMessage: () => ((flow: Flow, message: MessageRecord) => void) | undefined;
}

/** The Flow hooks see for an exchange: its request head (hop-by-hop fields dropped, Host set) and `body`. */
export function flowFor(
  exchange: Exchange,
  head: { readonly method: string; readonly rawHeaders: readonly string[]; readonly httpVersion: string },
  body: Body,
): Flow {
  return new Flow({
    id: exchange.id,
    connectionId: exchange.connectionId,
    client: exchange.client,
    clientTls: exchange.clientTls,
    start: Date.now(),
    request: new FlowRequest({
      method: head.method,
      url: exchange.url,
      rawHeaders: setRawHeader(stripHopByHop(head.rawHeaders), 'Host', exchange.hostHeader),
      httpVersion: head.httpVersion,
      body,
    }),
  });
}

/**
 * Runs one request through the hook pipeline and the origin, then streams the answer to the
 * client. Bodies are piped unless a hook reads or replaces them, so backpressure holds end to end:
 * a slow client pauses the origin's response, a slow origin pauses the client's upload.
 */
export async function runExchange(deps: ExchangeDeps, exchange: Exchange, req: InboundRequest, res: OutboundResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const flow = flowFor(
    exchange,
    {
      method,
      rawHeaders: deps.viaMarker === undefined ? requestRawHeaders(req) : withVia(requestRawHeaders(req), req.httpVersion, deps.viaMarker),
      httpVersion: req.httpVersion,
    },
    new Body(requestBody(req), {
      cap: deps.maxBodyBuffer,
      what: `the request body of ${method} ${exchange.url}`,
      declaredLength: declaredLength(req.rawHeaders),
      recordLimit: deps.recordBodyLimit,
    }),
  );
  const tally = new ResponseTally(deps.hooks, flow);
  res.once('close', () => {
    const completed = responseCompleted(res);
    if (!completed) flow.clientClosed();
    endFlow(deps.onFlowEnd, flow, exchange, () => tally.delivery(res), tally.pending);
    tally.release?.(completed);
  });

  const outcome = await runPhases(deps.hooks, flow, {
    answered: () => {
      // The request body goes nowhere, but must still be read off the connection, and is recorded
      // as it goes (a harness asserts on what its client sent to a mock).
      tally.pending.push(flow.request.bodyStore.consume());
    },
    toOrigin: () => fetchFromOrigin(deps, exchange, flow, req, res, tally),
    clientGone: () => clientGone(res),
    fail: (failure) => respondWithError(res, failure),
  });
  if (!outcome) return;
  const { response, reply } = outcome;
  // The origin's trailers (gRPC's grpc-status) go on with its body, not with a hook's answer.
  sendResponse(deps, flow, response, res, response === reply?.response ? reply.tail : undefined, tally);
}

/**
 * TLS session #2 (or plain HTTP): sends the request over HTTP/2 or HTTP/1.1, as the origin chose,
 * and resolves with the origin's response head and its trailers (once its body has ended).
 */
function fetchFromOrigin(
  deps: ExchangeDeps,
  exchange: Exchange,
  flow: Flow,
  req: InboundRequest,
  res: OutboundResponse,
  tally: ResponseTally,
): Promise<{ response: FlowResponse; tail: OriginTail }> {
  const request = flow.request;
  const { origin, path } = request.retargeted ? originOfUrl(request.url) : exchange;
  const authority = formatAuthority(origin);
  const body = request.bodyStore.outgoing();
  request.bodyStore.recordSent(body);
  const headers = frameBody(request.wireHeaders(), body, hasOpenEndedBody(req));
  const call = deps.upstream.request(origin, {
    method: request.method,
    path,
    headers,
    body,
    bodyless: body.kind === 'stream' && hasNoBody(req),
    // A body a hook replaced is a new one: the client's trailers belonged to the old.
    trailers: () => (body.kind === 'bytes' && body.replaced ? [] : requestTrailers(req)),
    trailersAccepted: acceptsTrailers(req.rawHeaders),
    onConnection: (connection) => flow.useOriginConnection(connection),
    onInterim: (head) => sendEarlyHints(res, head.status, stripHopByHop(head.rawHeaders)),
  });
  // The origin gets timeoutMs to connect and answer; the clock restarts while the upload flows,
  // so a large, slow upload is not mistaken for a silent origin.
  const timer = setTimeout(() => {
    call.destroy(new MitmError('upstream_timeout', `${authority} did not answer within ${deps.timeoutMs} ms`));
  }, deps.timeoutMs);
  if (body.kind === 'stream' && !hasNoBody(req)) body.stream.on('data', () => timer.refresh());
  // Run when the client's side closes (one 'close' listener per exchange, runExchange's).
  tally.release = (completed) => {
    clearTimeout(timer);
    // The client went away first: free the origin connection instead of draining it to nobody.
    if (!completed) call.destroy();
  };
  // Only an upload streaming to the origin can stall unread (a hook's answer reads it to its end, as
  // does a body a hook read or replaced): once the answer is out, the origin's side is freed as when
  // the client leaves. An HTTP/1.x client may go on sending into the void for --upstream-timeout at most.
  if (body.kind === 'stream') closeUploadOnceAnswered(req, res, () => tally.release?.(false), deps.timeoutMs);
  return call.response.then(
    (answer) => {
      clearTimeout(timer);
      const response = new FlowResponse({
        status: answer.status,
        statusMessage: answer.statusMessage,
        rawHeaders: stripHopByHop(answer.rawHeaders),
        httpVersion: answer.httpVersion,
        body: new Body(answer.body, {
          cap: deps.maxBodyBuffer,
          what: `the response body of ${request.method} ${request.url}`,
          declaredLength: declaredLength(answer.rawHeaders),
          recordLimit: deps.recordBodyLimit,
        }),
        synthetic: false,
      });
      return { response, tail: { trailers: answer.trailers, headOnly: answer.headOnly } };
    },
    (error: unknown) => {
      clearTimeout(timer);
      throw classifyUpstreamError(error, authority);
    },
  );
}

function sendResponse(
  deps: ExchangeDeps,
  flow: Flow,
  response: FlowResponse,
  res: OutboundResponse,
  tail: OriginTail | undefined,
  tally: ResponseTally,
): void {
  const body = throughEventHooks(deps.hooks, flow, response, response.bodyStore.outgoing(), response.bodyStore.cap);
  const observe = body.kind === 'stream' ? deps.onMessage() : undefined;
  if (observe && body.kind === 'stream') watchEvents(flow, response, body.stream, observe);
  response.bodyStore.recordSent(body);
  const head = frameBody(response.wireHeaders(), body, false);
  // The origin's Date is passed on as it was; only responses the proxy makes get one from Node.
  res.sendDate = response.synthetic;
  // A replaced body is a new one, without the origin's trailers.
  const trailers = (): readonly string[] => (tail && !(body.kind === 'bytes' && body.replaced) ? tail.trailers() : []);
  const headOnly = body.kind === 'bytes' ? body.data.length === 0 && trailers().length === 0 : tail?.headOnly === true;
  if (isH2Response(res) && (headOnly || bodilessH2(res, response.status))) {
    // HTTP/2 ends such a stream with its HEADERS frame (RFC 9113 §8.1), and gRPC's trailers-only
    // answers (an error status) must come that way: clients read their grpc-status only there.
    endWithHead(res, response.status, head);
    if (body.kind === 'stream') body.stream.resume();
    return;
  }
  const endAt = body.kind === 'stream' ? endOnLength(res, response) : undefined;
  // Trailers can follow a body read whole only if it had some, and a streamed one only from the
  // origin, and not past a declared length (endOnLength).
  const trailersFollow = body.kind === 'bytes' ? trailers().length > 0 : tail !== undefined && endAt === undefined;
  const to = openResponseBody(res, response.status, response.statusMessage, head, trailersFollow);
  const sendTrailers = (): void => addResponseTrailers(res, trailers());
  if (body.kind === 'bytes') {
    tally.count(body.data.length);
    sendTrailers();
    to.end(body.data);
    return;
  }
  // A head whose body has not started yet goes out now (event streams, long polls); otherwise Node
  // sends it together with the first body bytes, in one write.
  // (An HTTP/2 head is sent by respond() itself.)
  if (body.stream.readableLength === 0 && !isH2Response(res)) res.flushHeaders();
  // An origin that breaks off mid-body breaks the client connection too, rather than end a
  // truncated body cleanly, and a client that leaves frees the origin.
  relayBody(body.stream, to, { beforeEnd: sendTrailers, endAt, onBytes: tally.count, onError: tally.broke });
}

/**
 * For an HTTP/2 client, the declared length at which its stream can end with the last DATA frame,
 * rather than in a frame of its own a turn later, which curl answers with RST_STREAM (a cascade of
 * resets on both hops: ~15 % of the proxy's CPU per HTTP/2 request). Only where no trailers can
 * follow the body: an HTTP/1.1 origin sends none after a sized one, and a client that did not ask
 * for them (TE: trailers, as gRPC does) is owed none (RFC 9110 §6.5.1).
 */
function endOnLength(res: OutboundResponse, response: FlowResponse): number | undefined {
  if (!isH2Response(res) || (response.httpVersion === '2.0' && acceptsTrailers(res.req.rawHeaders))) return undefined;
  const declared = lengthOf(response.header('content-length'));
  return declared !== undefined && Number.isSafeInteger(declared) && declared > 0 ? declared : undefined;
}

/** Routes an event-stream body through the onServerSentEvent hooks, decoded, when any hook has that phase. */
function throughEventHooks(hooks: HookPipeline, flow: Flow, response: FlowResponse, body: OutgoingBody, maxBlock: number): OutgoingBody {
  if (body.kind !== 'stream' || !hooks.has('onServerSentEvent')) return body;
  if (!isEventStream(response)) return body;
  const decoded = decodeStream(
    body.stream,
    valuesOf(response.headers['content-encoding']).join(','),
    `the response body of ${flow.request.method} ${flow.request.url}`,
  );
  if (!decoded) return body;
  // Rewritten events change the length, and are sent decoded.
  delete response.headers['content-length'];
  delete response.headers['content-encoding'];
  // An event longer than a hook may buffer (--max-body-buffer) ends the parsing: the rest streams on as it is.
  const events = rewriteEventStream(decoded, (event) => hooks.serverSentEvent(flow, event), maxBlock);
  return { kind: 'stream', stream: Readable.from(events) };
}

/**
 * Reports each event of an event stream as it goes out (the bytes themselves are not touched): a
 * second reader of the body sent, parsed on the side. Only a stream sent uncompressed is read; a
 * block longer than the body cap ends the watching.
 */
function watchEvents(flow: Flow, response: FlowResponse, stream: Readable, observe: (flow: Flow, message: MessageRecord) => void): void {
  if (!isEventStream(response) || valuesOf(response.headers['content-encoding']).join('') !== '') return;
  const parser = new EventStreamParser();
  const onData = (chunk: Buffer): void => {
    for (const block of parser.push(chunk)) {
      if (block.kind !== 'event') continue;
      const { event, data } = block.event;
      observe(flow, {
        flowId: flow.id,
        url: flow.request.url,
        kind: 'sse',
        direction: 'server-to-client',
        type: event ?? 'message',
        size: Buffer.byteLength(data),
        time: Date.now(),
        text: data,
      });
    }
    if (parser.pendingLength > response.bodyStore.cap) stream.off('data', onData);
  };
  stream.on('data', onData);
}

function isEventStream(response: FlowResponse): boolean {
  return valuesOf(response.headers['content-type']).join().toLowerCase().startsWith('text/event-stream');
}

function declaredLength(raw: readonly string[]): number | undefined {
  return lengthOf(getRawHeader(raw, 'content-length'));
}

/** A Content-Length value as a number; undefined when there is none. */
function lengthOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** What went to the client, and why it broke off if it did: read when the flow ends. */
class ResponseTally {
  /** Body bytes written to the client. */
  bytes = 0;
  /** What the flow's end waits for: an upload still being read after a hook answered, onError hooks. */
  readonly pending: Promise<unknown>[] = [];
  /** Frees what the origin request holds once the client's side has closed (set when the request goes out); `completed`: the whole answer was delivered. */
  release: ((completed: boolean) => void) | undefined;
  #cause: string | undefined;
  readonly #hooks: HookPipeline;
  readonly #flow: Flow;

  constructor(hooks: HookPipeline, flow: Flow) {
    this.#hooks = hooks;
    this.#flow = flow;
  }

  /** Counts body bytes sent. */
  readonly count = (bytes: number): void => {
    this.bytes += bytes;
  };

  /**
   * Takes the error that broke the body off. A coded one is the proxy's own failure mid-body (a
   * body that does not decode, an onServerSentEvent hook that threw): it becomes `flow.error`, and
   * the onError hooks see it. Anything else is a peer breaking off, which the record names.
   */
  readonly broke = (error: Error, side: RelaySide): void => {
    if (isMitmError(error)) {
      if (this.#flow.error) return;
      this.#flow.error = error;
      this.pending.push(this.#hooks.error(this.#flow, error));
      return;
    }
    this.#cause ??= `${side === 'body' ? 'the origin broke off the response body' : 'the client connection failed'}: ${describeError(error)}`;
  };

  /** How the response went out: complete unless the client or the origin broke off first. */
  delivery(res: OutboundResponse): Delivery {
    const complete = responseCompleted(res, { bytes: this.bytes, declared: lengthOf(this.#flow.response?.header('content-length')) });
    const client = clientFailure(res);
    const cause = this.#cause ?? (client && `the client's HTTP/2 stream failed: ${describeError(client)}`);
    return { status: res.headersSent ? res.statusCode : undefined, bytes: this.bytes, complete, cause };
  }
}

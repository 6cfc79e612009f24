import type { Transform } from 'node:stream';
import { MitmError } from '../errors.js';
import { Body } from './body.js';
import { decodeBody } from './decode.js';
import { getRawHeader, getRawHeaderValues, headerMapFromRaw, toRawHeaders, valuesOf, type HeaderMap } from './header-map.js';
import type { ClientTlsFacts, FlowTls, OriginTlsFacts } from './tls-facts.js';
import type { WebSocketLog } from './ws-message.js';

/** Where a flow came from. */
export interface FlowClient {
  readonly address: string;
  readonly port: number;
  /** The proxy user it authenticated as (`--proxy-auth`; for tunnels, the CONNECT's or SOCKS5 user); never the password. */
  readonly user?: string;
  /**
   * The kind of listener it came through (`--mode`): `regular`, `transparent` or `reverse`;
   * absent means regular. Kept on the connection, as mitmproxy's `client_conn.proxy_mode` is.
   */
  readonly mode?: string;
}

/** Milestones of a flow, in epoch milliseconds; later ones are undefined until reached. */
export interface FlowTimings {
  readonly start: number;
  /** The request was handed to the origin (or a hook answered it). */
  requestSent?: number;
  /** The response head arrived. */
  responseStart?: number;
  /** The last response byte was written to the client. */
  end?: number;
  /**
   * The origin connection that carried the request: opened for it (`new`: this was its first
   * request) or open already (`reused`: it cost this request nothing, and the three marks below
   * are absent). Absent when no origin connection carried the request.
   */
  connection?: 'new' | 'reused';
  /**
   * A new connection's dial started, its TCP connection (through any upstream proxy) was up, and
   * its TLS handshake started and ended (absent for plain HTTP). They precede `start` when the connection was
   * opened ahead of the request (during the CONNECT); absent when unknown.
   */
  connectStart?: number;
  connectEnd?: number;
  tlsStart?: number;
  tlsEnd?: number;
}

/** The origin connection a request went on, as the origin side reports it (origin/origin-connection.ts). */
export interface OriginConnectionFacts {
  readonly address: string;
  readonly port: number;
  /** False for the first request on a new connection. */
  readonly reused: boolean;
  /** Absent for plain HTTP. */
  readonly tls?: OriginTlsFacts | undefined;
  /** Epoch ms, for a new connection, when known: see FlowTimings. */
  readonly connectStart?: number | undefined;
  readonly connectEnd?: number | undefined;
  readonly tlsStart?: number | undefined;
  readonly tlsEnd?: number | undefined;
}

/** What `flow.respond()` and mocks accept. */
export interface ResponseInit {
  readonly status: number;
  readonly headers?: HeaderMap;
  readonly body?: string | Buffer;
}

/** Body accessors shared by requests and responses. */
abstract class Message {
  readonly httpVersion: string;
  /** The raw header list as received; the wire form keeps its order for untouched fields. */
  readonly rawHeaders: readonly string[];
  readonly #body: Body;
  // Built on first use: most exchanges pass through with no hook looking at their headers, and
  // then the raw list goes on as it came (docs/performance.md).
  #headers: HeaderMap | undefined;

  constructor(rawHeaders: readonly string[], httpVersion: string, body: Body) {
    this.rawHeaders = rawHeaders;
    this.httpVersion = httpVersion;
    this.#body = body;
  }

  /** Lower-case names; mutable. Repeated fields are arrays. */
  get headers(): HeaderMap {
    this.#headers ??= headerMapFromRaw(this.rawHeaders);
    return this.#headers;
  }

  set headers(value: HeaderMap) {
    this.#headers = value;
  }

  /** The first value of the field `name` (lower-case) as `headers` has it now. */
  header(name: string): string | undefined {
    return this.#headers ? valuesOf(this.#headers[name])[0] : getRawHeader(this.rawHeaders, name);
  }

  /**
   * Every value of the field `name` (lower-case) as `headers` has it now; like `header`, it reads
   * the raw list when no hook built `headers`, so recorders do not build it for each flow.
   */
  headerValues(name: string): string[] {
    return this.#headers ? valuesOf(this.#headers[name]) : getRawHeaderValues(this.rawHeaders, name);
  }

  /** For JSON.stringify and loggers: the public fields, `headers` included (it is not an own property). */
  toJSON(): object {
    return { ...this, headers: this.headers };
  }

  /** The fields in wire form: the raw list with whatever hooks changed in `headers` applied. */
  wireHeaders(): string[] {
    return this.#headers ? toRawHeaders(this.rawHeaders, this.#headers) : [...this.rawHeaders];
  }

  /** The body bytes, content-decoded (gzip, deflate, br; zstd where Node supports it). Buffers the body, up to the cap. */
  async bytes(): Promise<Buffer> {
    const raw = await this.#body.read();
    if (this.#body.replaced) return raw;
    return decodeBody(raw, valuesOf(this.headers['content-encoding']).join(','), 'the body', this.#body.cap);
  }

  /** The decoded body as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** The decoded body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** Replaces the body; it is sent unencoded, with Content-Length set and Content-Encoding removed. */
  set body(data: string | Buffer) {
    this.#body.replace(data);
  }

  /** Streams the body through `transform` as it goes out (e.g. a throttle); bodies sent as bytes skip it. */
  pipeThrough(transform: Transform): void {
    this.#body.pipeThrough(transform);
  }

  /** The body store, for the engine. */
  get bodyStore(): Body {
    return this.#body;
  }
}

/** The request of a flow, as hooks see and change it. */
export class FlowRequest extends Message {
  method: string;
  #url: string;
  readonly #originalUrl: string;

  constructor(init: { method: string; url: string; rawHeaders: readonly string[]; httpVersion: string; body: Body }) {
    super(init.rawHeaders, init.httpVersion, init.body);
    this.method = init.method;
    this.#url = init.url;
    this.#originalUrl = init.url;
  }

  /** Absolute URL. Setting it re-targets the request (scheme, host, port, path) and updates Host. */
  get url(): string {
    return this.#url;
  }

  set url(value: string) {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch (error) {
      throw new MitmError('hook_failed', `flow.request.url must be an absolute URL, got ${JSON.stringify(value)}`, { cause: error });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new MitmError('hook_failed', `flow.request.url must be http or https, got ${parsed.protocol}`);
    }
    if (parsed.host !== new URL(this.#url).host) this.headers.host = parsed.host;
    this.#url = parsed.href;
  }

  /** True when a hook changed the URL, so the request no longer goes to the original target. */
  get retargeted(): boolean {
    return this.#url !== this.#originalUrl;
  }
}

/** The response of a flow: from the origin, or made by a hook (`synthetic`). */
export class FlowResponse extends Message {
  status: number;
  statusMessage: string | undefined;
  /** True when a hook or the proxy made this response instead of the origin. */
  readonly synthetic: boolean;

  constructor(init: {
    status: number;
    statusMessage?: string | undefined;
    rawHeaders: readonly string[];
    httpVersion: string;
    body: Body;
    synthetic: boolean;
  }) {
    super(init.rawHeaders, init.httpVersion, init.body);
    this.status = init.status;
    this.statusMessage = init.statusMessage;
    this.synthetic = init.synthetic;
  }
}

/** One request/response exchange, handed to every hook phase. */
export class Flow {
  readonly id: number;
  readonly client: FlowClient;
  readonly request: FlowRequest;
  response: FlowResponse | undefined;
  /** Set when the exchange failed (origin unreachable, hook threw...). */
  error: MitmError | undefined;
  readonly timings: FlowTimings;
  /** Identifies the client connection the request arrived on (several flows share one under keep-alive). */
  readonly connectionId: number;
  /** The origin's address as connected, once known; undefined for answers made by hooks. */
  server: { readonly address: string; readonly port: number } | undefined;
  /** For an upgraded WebSocket connection: the messages passed on, as far as the record limits allow. */
  webSocket: WebSocketLog | undefined;
  /** True once the exchange ended with the response not wholly delivered (the client or the origin broke off). */
  incomplete = false;
  #reset: MitmError | undefined;
  #clientGone = false;
  // Made on first use of `signal`: most flows never have a hook that waits on their client.
  #gone: AbortController | undefined;
  // Made on first use: most flows get neither, and a kept flow's empty sets were four more objects
  // for every garbage collection to copy and mark (docs/performance.md).
  #tags: Set<string> | undefined;
  #changedBy: Set<string> | undefined;
  readonly #clientTls: ClientTlsFacts | undefined;
  #tls: FlowTls | undefined;

  constructor(init: {
    id: number;
    connectionId: number;
    client: FlowClient;
    request: FlowRequest;
    start: number;
    clientTls?: ClientTlsFacts | undefined;
  }) {
    this.id = init.id;
    this.connectionId = init.connectionId;
    this.client = init.client;
    this.request = init.request;
    this.timings = { start: init.start };
    this.#clientTls = init.clientTls;
    this.#tls = init.clientTls ? { client: init.clientTls } : undefined;
  }

  /** Free-form labels hooks may add, e.g. `mocked`. */
  get tags(): Set<string> {
    this.#tags ??= new Set();
    return this.#tags;
  }

  /** The tags as a list, in the order added; reading them this way makes no set for a flow without any. */
  tagList(): string[] {
    return this.#tags === undefined ? [] : [...this.#tags];
  }

  /** Names of the hooks whose onRequest/onResponse changed the request or response (or answered it), in order. */
  get changedBy(): Set<string> {
    this.#changedBy ??= new Set();
    return this.#changedBy;
  }

  /** `changedBy` as a list; reading it this way makes no set for a flow no hook changed. */
  changedByList(): string[] {
    return this.#changedBy === undefined ? [] : [...this.#changedBy];
  }

  /**
   * What TLS negotiated on the client connection (SNI, ALPN, version, cipher) and on the origin
   * connection (the same, and the origin's certificate), each shared by every flow its connection
   * carries; undefined when neither side spoke TLS. The origin side appears once the request is
   * on its connection (so `onResponse` hooks see it).
   */
  get tls(): FlowTls | undefined {
    return this.#tls;
  }

  /** For the engine: the origin connection the request went on; sets `server`, the origin side of `tls` and the connection timings. */
  useOriginConnection(connection: OriginConnectionFacts): void {
    this.server = { address: connection.address, port: connection.port };
    const client = this.#clientTls;
    const origin = connection.tls;
    this.#tls = client || origin ? { ...(client ? { client } : {}), ...(origin ? { origin } : {}) } : undefined;
    const timings = this.timings;
    timings.connection = connection.reused ? 'reused' : 'new';
    delete timings.connectStart;
    delete timings.connectEnd;
    delete timings.tlsStart;
    delete timings.tlsEnd;
    if (connection.reused) return;
    if (connection.connectStart !== undefined) timings.connectStart = connection.connectStart;
    if (connection.connectEnd !== undefined) timings.connectEnd = connection.connectEnd;
    if (connection.tlsStart !== undefined) timings.tlsStart = connection.tlsStart;
    if (connection.tlsEnd !== undefined) timings.tlsEnd = connection.tlsEnd;
  }

  /** The kind of listener the request came through: `regular`, `transparent` or `reverse` (docs/modes.md). */
  get mode(): string {
    return this.client.mode ?? 'regular';
  }

  /**
   * Resets the client's connection instead of answering it (HTTP/1.x: a TCP RST; HTTP/2: RST_STREAM
   * on this stream). From onRequest the origin is not contacted; later hooks of the phase are
   * skipped, and the flow is recorded with the error `injected_reset` and `reason`.
   */
  reset(reason = 'reset on purpose by a hook'): void {
    this.#reset = new MitmError('injected_reset', reason);
  }

  /**
   * Aborted once the client went away before its answer was delivered (it closed the connection
   * or reset the stream): a hook that waits (a breakpoint, a slow lookup) can stop waiting.
   */
  get signal(): AbortSignal {
    this.#gone ??= new AbortController();
    if (this.#clientGone) this.#gone.abort();
    return this.#gone.signal;
  }

  /** For the engine: the client went away before its answer was delivered; aborts `signal`. */
  clientClosed(): void {
    this.#clientGone = true;
    this.#gone?.abort();
  }

  /** The reset a hook asked for with `reset()`, for the engine; undefined when none did. */
  get resetRequested(): MitmError | undefined {
    return this.#reset;
  }

  /** Answers the request without contacting the origin; later `onRequest` hooks are skipped, `onResponse` still runs. */
  respond(init: ResponseInit): void {
    // Recorded like the request: without a limit, a mocked answer would appear empty in proxy.har().
    const what = `the response body of ${this.request.method} ${this.request.url}`;
    this.response = syntheticResponse(init, what, this.request.bodyStore.recordLimit);
  }
}

/** A response made by the proxy or a hook rather than by the origin; `recordLimit` bytes of its body are recorded. */
export function syntheticResponse(init: ResponseInit, what: string, recordLimit = 0): FlowResponse {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    for (const item of valuesOf(value)) raw.push(name, item);
  }
  const body = new Body(undefined, { cap: 0, what, recordLimit });
  body.replace(init.body ?? '');
  return new FlowResponse({ status: init.status, rawHeaders: raw, httpVersion: '1.1', body, synthetic: true });
}

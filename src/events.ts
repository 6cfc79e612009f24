import type { ErrorCode } from './errors.js';
import type { Flow, ResponseInit } from './flow/flow.js';
import type { HeaderMap } from './flow/header-map.js';
import type { FlowTls } from './flow/tls-facts.js';

/** One request/response exchange as it ended: what the CLI prints one line for. */
export interface FlowRecord {
  /** Sequence number, unique within one proxy instance. */
  readonly id: number;
  readonly method: string;
  /** Absolute URL (`https://host/path` for intercepted requests). */
  readonly url: string;
  /** Status sent to the client; undefined when no response head could be sent. */
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  /** Response body bytes forwarded to the client. */
  readonly responseBytes: number;
  /** From the request head's arrival to the last response byte written. */
  readonly durationMs: number;
  /** Set when the proxy answered with an error (502, 504...) or the exchange broke off. */
  readonly error: { readonly code: ErrorCode | 'aborted'; readonly message: string } | undefined;
  /** Address of the client connection the request came from, and the proxy user it authenticated as (`--proxy-auth`). */
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
  /** The kind of listener it came through: `regular`, `transparent` or `reverse` (docs/modes.md). */
  readonly mode: string;
  /** What TLS negotiated with the client and with the origin (`flow.tls`); absent when neither side spoke TLS. */
  readonly tls?: FlowTls | undefined;
}

/**
 * A CONNECT that was tunnelled untouched (no decryption), or one to an intercepted host whose
 * origin could not be dialled (`reason` 'intercept', `error` set: the client got 502/504).
 */
export interface TunnelRecord {
  readonly host: string;
  readonly port: number;
  /** Who asked; `mode` is the kind of listener it came through (absent: regular, a CONNECT or SOCKS5). */
  readonly client: { readonly address: string; readonly port: number; readonly mode?: string };
  /** The rule that made it a tunnel, e.g. `--passthrough *.apple.com`; 'intercept' for an intercepted host. */
  readonly reason: string;
  /** Set when the origin could not be reached (the client got 502/504 to its CONNECT). */
  readonly error: { readonly code: ErrorCode; readonly message: string } | undefined;
}

/** A client connection that ended badly before any request: TLS handshake failure, garbage bytes. */
export interface ClientIssue {
  readonly host: string | undefined;
  readonly client: { readonly address: string; readonly port: number };
  readonly code: 'client_tls' | 'bad_request' | 'headers_too_large';
  readonly message: string;
}

/**
 * A client rejected our certificate for a host (it pins, or does not trust our CA), and
 * `--auto-passthrough` now tunnels that client address's connections to it untouched.
 */
export interface AutoPassthroughRecord {
  readonly host: string;
  readonly port: number;
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
  /** How the client said no: a TLS alert (`unknown_ca`, `bad_certificate`, `certificate_unknown`) or a hang-up. */
  readonly reason: string;
  /** Epoch milliseconds when the pass-through is forgotten and interception is tried again. */
  readonly until: number;
}

/**
 * A hook that threw in an observe-only phase (`onError`, `onFlowEnd`), or an event listener of the
 * running proxy that threw or rejected (phase `listener`, `hook` naming the event): logged, never fatal.
 */
export interface HookFault {
  readonly hook: string;
  readonly phase: 'onError' | 'onFlowEnd' | 'listener';
  readonly message: string;
}

/**
 * A client connection turned away as it was accepted: from outside `--allow-client`, or beyond
 * `--max-connections` / `--max-client-connections` (HTTP clients got `503`, others a closed socket).
 */
export interface ClientRefusal {
  readonly client: { readonly address: string; readonly port: number };
  /** The kind of listener it reached (`regular`, `transparent`, `reverse`, `metrics`). */
  readonly mode: string;
  readonly reason: 'client_not_allowed' | 'max_connections' | 'max_client_connections';
}

/** The events a running proxy emits; the core never prints, the CLI subscribes. */
export interface ProxyEventMap {
  /**
   * An exchange ended: its summary (plain data, what the log line shows), and the finished Flow
   * itself (headers, recorded bodies, timings, tags), the object `proxy.flows` keeps. The Flow is
   * absent for a request refused before it became a flow (bad request, proxy auth) and for the CA download page.
   */
  flow: [record: FlowRecord, flow?: Flow];
  tunnel: [TunnelRecord];
  'client-issue': [ClientIssue];
  /** `--auto-passthrough` started tunnelling a client→host pair after the client rejected our certificate. */
  'auto-passthrough': [AutoPassthroughRecord];
  /** A hook threw in an observe-only phase (onError, onFlowEnd), or a listener of another event threw; the proxy went on. */
  'hook-fault': [HookFault];
  /** A client connection was refused as it was accepted (--allow-client, connection limits). */
  'client-refused': [ClientRefusal];
  /** Writing to the `store` failed (disk full, file removed): those flows are lost, the proxy went on. */
  'store-error': [StoreErrorRecord];
  /** A breakpoint rule (`proxy.breakpoints`) holds a request or response: resume, abort or answer it before it times out. */
  held: [HeldFlow];
  /** A held flow went on: resumed, aborted, answered, timed out, or released by close(). */
  released: [HeldRelease];
  /**
   * A WebSocket message or a server-sent event passed through, emitted as it passes (not at the
   * flow's end), with the flow it belongs to. Only while someone listens: messages are then parsed
   * even when nothing records them.
   */
  message: [MessageRecord, Flow];
}

/** One WebSocket message or server-sent event as it passed through the proxy. */
export interface MessageRecord {
  /** The flow it belongs to (its `id`, as in FlowRecord). */
  readonly flowId: number;
  readonly url: string;
  readonly kind: 'websocket' | 'sse';
  /** Server-sent events always travel `server-to-client`. */
  readonly direction: 'client-to-server' | 'server-to-client';
  /** WebSocket: `text` or `binary`; SSE: the event type (`message` unless the event names one). */
  readonly type: string;
  /** Payload bytes: a WebSocket message's, decompressed; an event's data field, as UTF-8. */
  readonly size: number;
  /** When it passed, in epoch milliseconds. */
  readonly time: number;
  /** The text (a WebSocket text message's start, an event's data); absent for binary messages. */
  readonly text?: string;
}

/** The phase a breakpoint holds a flow in: before the request goes upstream, or before the response goes to the client. */
export type HeldPhase = 'request' | 'response';

/** What a held request or response may be changed to before it goes on; each field is optional. */
export interface HeldEdits {
  /** Request phase only. */
  readonly method?: string;
  /** Request phase only: an absolute http(s) URL (re-targets the request, Host follows). */
  readonly url?: string;
  /** Response phase only. */
  readonly status?: number;
  /** The whole header set to send (names lower-case, repeated fields as arrays): fields left out are removed. */
  readonly headers?: HeaderMap;
  /** The new body, sent unencoded with an exact Content-Length. */
  readonly body?: string | Buffer;
}

/**
 * A flow held at a breakpoint. Exactly one of `resume`, `abort` or `answer` releases it; until then
 * the client waits, up to the breakpoint timeout (then 504 `breakpoint_timeout`).
 */
export interface HeldFlow {
  readonly flow: Flow;
  readonly phase: HeldPhase;
  /** The id of the rule that matched (`proxy.breakpoints.add`). */
  readonly rule: number;
  /** Epoch milliseconds when it was held, and when it times out. */
  readonly heldAt: number;
  readonly deadline: number;
  /**
   * The body of the held message, decoded, as buffered for the hold; undefined when it was larger
   * than `maxBodyBuffer` or is a stream without end (event streams, WebSocket upgrades): it then
   * goes on untouched unless `resume` replaces it.
   */
  readonly body: Buffer | undefined;
  /** Lets the flow go on, with `edits` applied; throws `breakpoint_edit_invalid` (the flow stays held) or `breakpoint_not_held`. */
  resume(edits?: HeldEdits): void;
  /** Fails the flow: the client gets 502 with `x-mitm-error: breakpoint_aborted`. */
  abort(): void;
  /** Answers with `response` instead; in the request phase the origin is never contacted. */
  answer(response: ResponseInit): void;
}

/** How a held flow was released. */
export interface HeldRelease {
  readonly flowId: number;
  readonly phase: HeldPhase;
  /** `client_gone`: the client went away while the flow was held; it is dropped, the origin never asked. */
  readonly outcome: 'resumed' | 'aborted' | 'answered' | 'timeout' | 'closed' | 'client_gone';
}

/** A failed write to the flow store (`--store`). */
export interface StoreErrorRecord {
  /** The store file. */
  readonly file: string;
  /** `store_failed`, naming the file and the reason. */
  readonly code: string;
  readonly message: string;
}

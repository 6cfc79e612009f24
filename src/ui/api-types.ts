// The web inspector's API shapes (docs/ui-api.md), shared by the server and the page: types only,
// so the browser bundle can import them without pulling in Node code.
import type { FlowTls } from '../flow/tls-facts.js';

export type { ClientTlsFacts, FlowTls, OriginCertificateFacts, OriginTlsFacts } from '../flow/tls-facts.js';

/** The API version in every path (`/api/v1/…`) and in the push channel's `hello`. */
export const UI_API_VERSION = 1;

/** One `[name, value]` header field, in wire order and spelling. */
export type HeaderPair = readonly [name: string, value: string];

/** One row of the flow list. */
export interface FlowSummary {
  readonly id: number;
  readonly method: string;
  readonly url: string;
  readonly host: string;
  /** Path and query. */
  readonly path: string;
  /** Status sent to the client; absent when none went out. */
  readonly status?: number | undefined;
  /** The response's media type without parameters (`application/json`). */
  readonly type?: string | undefined;
  /** Response body bytes sent to the client. */
  readonly size?: number | undefined;
  readonly durationMs?: number | undefined;
  /** Epoch milliseconds. */
  readonly start: number;
  /** Error code (docs/errors.md, or `aborted`) and message. */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** The response did not reach the client whole. */
  readonly incomplete: boolean;
  /** A hook or the proxy made the response (mocks, blocks, map-local). */
  readonly synthetic: boolean;
  readonly tags: readonly string[];
  readonly webSocket: boolean;
  /** Pinned: Clear keeps it (`POST /api/v1/flows/ID/pin`). */
  readonly pinned?: boolean | undefined;
  /** Read from a HAR file dropped on the page (`POST /api/v1/import`), not seen by the proxy. */
  readonly imported?: boolean | undefined;
}

/** Imported flows are numbered from here up, apart from the proxy's own ids (the page shows `i1`, `i2`…). */
export const IMPORTED_ID_BASE = 2 ** 40;

/** The largest HAR file `POST /api/v1/import` takes. */
export const MAX_IMPORT_BYTES = 64 * 2 ** 20;

/** `POST /api/v1/import`: how many flows the HAR added, and their ids. */
export interface ImportResult {
  readonly imported: number;
  readonly ids: readonly number[];
}

/** A body as the page shows it: decoded text, or base64 of the decoded bytes. */
export interface BodyView {
  /** Bytes kept (decoded). */
  readonly size: number;
  /** True when only the start of the body was kept; `fullLength` says how long it was, when known. */
  readonly cut: boolean;
  readonly fullLength?: number | undefined;
  readonly mimeType: string;
  readonly text?: string | undefined;
  readonly base64?: string | undefined;
  /** Why the body is not shown decoded (undecodable, unknown encoding). */
  readonly note?: string | undefined;
}

/** One server-sent event of a `text/event-stream` response, in stream order. */
export interface SseEventView {
  /** The `event:` field; absent for the default type, `message`. */
  readonly event?: string | undefined;
  readonly data: string;
  readonly id?: string | undefined;
}

/** One WebSocket data message. */
export interface MessageView {
  readonly direction: 'client-to-server' | 'server-to-client';
  readonly type: 'text' | 'binary';
  /** Epoch milliseconds. */
  readonly time: number;
  readonly size: number;
  readonly cut: boolean;
  readonly text?: string | undefined;
  readonly base64?: string | undefined;
}

/** Everything about one flow. */
export interface FlowDetail extends FlowSummary {
  readonly requestHttpVersion: string;
  readonly responseHttpVersion?: string | undefined;
  readonly statusMessage?: string | undefined;
  readonly requestHeaders: readonly HeaderPair[];
  readonly responseHeaders: readonly HeaderPair[];
  readonly requestBody?: BodyView | undefined;
  readonly responseBody?: BodyView | undefined;
  /**
   * Epoch milliseconds. `connection` says whether the origin connection was opened for this
   * request (`new`, with its dial and TLS marks, which precede `start` when it was opened during
   * the CONNECT) or open already (`reused`).
   */
  readonly timings: {
    readonly start: number;
    readonly requestSent?: number;
    readonly responseStart?: number;
    readonly end?: number;
    readonly connection?: 'new' | 'reused';
    readonly connectStart?: number;
    readonly connectEnd?: number;
    readonly tlsStart?: number;
    readonly tlsEnd?: number;
  };
  /**
   * The timings as consecutive phases in ms, as the HAR has them (-1: did not happen): `send` (the
   * proxy and its hooks), `blocked`, `connect` (`ssl` included) for the part of opening a new
   * connection the request waited for, `wait` (to the response head), `receive`.
   */
  readonly phases: {
    readonly send: number;
    readonly blocked: number;
    readonly connect: number;
    readonly ssl: number;
    readonly wait: number;
    readonly receive: number;
  };
  /** What TLS negotiated with the client and with the origin; absent when neither side spoke TLS. */
  readonly tls?: FlowTls | undefined;
  readonly client: { readonly address: string; readonly port: number; readonly user?: string | undefined };
  readonly server?: { readonly address: string; readonly port: number } | undefined;
  readonly mode?: string | undefined;
  readonly webSocket: boolean;
  readonly messages?: readonly MessageView[] | undefined;
  /** A `text/event-stream` response's events, as far as its body was recorded. */
  readonly events?: readonly SseEventView[] | undefined;
  /** Messages passed on but not recorded. */
  readonly messagesOmitted?: number | undefined;
}

/** A connection that carried no inspectable flow: a tunnel, an auto-passthrough, a refused handshake. */
export interface ConnectionEvent {
  /** Increasing within one inspector. */
  readonly seq: number;
  readonly kind: 'tunnel' | 'auto-passthrough' | 'client-issue';
  /** Epoch milliseconds, when the inspector heard of it. */
  readonly time: number;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly client: { readonly address: string; readonly port: number };
  /** Why: the rule that tunnelled it, the TLS alert, the message. */
  readonly reason: string;
  /** An error code when it failed (`client_tls`, `upstream_refused`…). */
  readonly code?: string | undefined;
}

/** One listener of the proxy: its mode (`regular`, `transparent`, `reverse:https://…`, `dns`) and how clients name it. */
export interface ListenerView {
  readonly mode: string;
  readonly address: string;
}

/** The status bar's figures. */
export interface UiStats {
  readonly source: 'proxy' | 'store';
  readonly readOnly: boolean;
  /** Flows the source holds. */
  readonly flows: number;
  readonly connections: number;
  /** The proxy's listeners, for a proxy source. */
  readonly listeners?: readonly ListenerView[] | undefined;
  /** SHA-256 fingerprint of the root CA (colon-separated hex), when the source knows it. */
  readonly caFingerprint?: string | undefined;
  /** Where the page downloads the CA certificate (`/api/v1/ca.pem`; never the key). */
  readonly caPath?: string | undefined;
  /** The store file, its size on disk in bytes (with its `-wal`) and the flows in it: a store source, or a proxy with `--store`. */
  readonly store?: { readonly file: string; readonly bytes: number; readonly flows: number } | undefined;
  /** The inspector's process, in bytes. */
  readonly memory: { readonly rss: number; readonly heapUsed: number };
}

/** `GET /api/v1/flows`. */
export interface FlowPage {
  /** Flows matching the filter, all pages together. */
  readonly total: number;
  readonly flows: readonly FlowSummary[];
}

/** A filter that does not parse, as the API reports it (400 body, push `filter-error`). */
export interface FilterProblem {
  readonly message: string;
  readonly reason: string;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  readonly length: number;
}

/** A breakpoint rule (`GET /api/v1/breakpoints`). */
export interface BreakpointView {
  readonly id: number;
  /** Filter text (docs/filters.md); '' matches every flow. */
  readonly filter: string;
  readonly on: 'request' | 'response' | 'both';
}

/** A flow held at a breakpoint, as the editor opens it: the held message's parts. */
export interface HeldView {
  readonly flowId: number;
  readonly phase: 'request' | 'response';
  /** The rule that matched. */
  readonly rule: number;
  /** Epoch milliseconds: when it was held, and when it times out (504 breakpoint_timeout). */
  readonly heldAt: number;
  readonly deadline: number;
  readonly method: string;
  readonly url: string;
  /** Response phase: the origin's status. */
  readonly status?: number | undefined;
  /** The held message's header fields, in wire order. */
  readonly headers: readonly HeaderPair[];
  /** The held message's body, decoded, when it was buffered and is UTF-8 text. */
  readonly body?: string | undefined;
  /** Why `body` is absent: too large to buffer, binary, a stream without end. */
  readonly bodyNote?: string | undefined;
}

/** The breakpoint rules and the flows held now (`GET /api/v1/breakpoints`, push `breakpoints`). */
export interface BreakpointState {
  readonly rules: readonly BreakpointView[];
  readonly held: readonly HeldView[];
}

/**
 * An edited message as the page sends it to resume a held flow (`POST /api/v1/held/ID/resume`) or
 * to replay one (`POST /api/v1/flows/ID/replay`); absent fields stay as they are.
 */
export interface MessageEdits {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly status?: number | undefined;
  readonly headers?: readonly HeaderPair[] | undefined;
  readonly body?: string | undefined;
}

/** `POST /api/v1/flows/ID/replay`: the new flow's id (tagged `replayed`, `replay-of:ID`) and its status. */
export interface ReplayAnswer {
  readonly original: number;
  readonly flow: number;
  readonly status?: number | undefined;
}

/** What the page sends on the push channel. */
export type ClientMessage = { readonly type: 'subscribe'; readonly filter: string };

/**
 * What the push channel sends; flows and connections arrive in batches. A `reset` carries the
 * first rows of the snapshot (`total` says how many match); the rest follow as `flows` messages.
 */
export type PushMessage =
  | { readonly type: 'hello'; readonly version: number; readonly stats: UiStats }
  | { readonly type: 'reset'; readonly filter: string; readonly total: number; readonly flows: readonly FlowSummary[] }
  | { readonly type: 'flows'; readonly flows: readonly FlowSummary[] }
  | { readonly type: 'connections'; readonly events: readonly ConnectionEvent[] }
  | { readonly type: 'filter-error'; readonly filter: string; readonly error: FilterProblem }
  | { readonly type: 'cleared'; readonly kept: readonly number[] }
  | { readonly type: 'pinned'; readonly id: number; readonly pinned: boolean }
  | { readonly type: 'breakpoints'; readonly state: BreakpointState }
  | { readonly type: 'stats'; readonly stats: UiStats };

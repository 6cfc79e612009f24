import type { FlowTimings } from '../../flow/flow.js';
import type { FlowTls } from '../../flow/tls-facts.js';
import type { WebSocketDirection } from '../../flow/ws-message.js';

/** One header field as it went on the wire: `[name, value]`, original spelling and order. */
export type HeaderPair = readonly [name: string, value: string];

/** A body as stored: the bytes as on the wire (still content-encoded), as far as they were kept. */
export interface StoredBody {
  readonly raw: Buffer;
  readonly contentEncoding: string | undefined;
  /** The decoded body as text, for textual types that could be decoded; else undefined. */
  readonly text: string | undefined;
  /** True when `raw` is only the start of the body (the recorder's or the store's limit). */
  readonly cut: boolean;
  /** The whole body's length on the wire, when known. */
  readonly fullLength: number | undefined;
}

/** One WebSocket data message as stored. */
export interface StoredWebSocketMessage {
  readonly seq: number;
  readonly direction: WebSocketDirection;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly type: 'text' | 'binary';
  /** Decompressed payload; only its start when `cut`. */
  readonly data: Buffer;
  readonly size: number;
  readonly cut: boolean;
}

/** One server-sent event parsed from a stored `text/event-stream` response body. */
export interface StoredSseEvent {
  readonly seq: number;
  readonly event: string | undefined;
  readonly data: string;
  readonly id: string | undefined;
  readonly retry: number | undefined;
}

/** A stored flow without its bodies and messages: one row of `flows`. Field names follow the filter language. */
export interface StoredFlowHead {
  /** The store's own id: increasing in append order, unique across proxy runs. */
  readonly id: number;
  /** `Flow.id` in the proxy run that recorded it. */
  readonly proxyFlowId: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly method: string;
  readonly url: string;
  /** Host name without port, lower-case. */
  readonly host: string;
  /** Path and query. */
  readonly path: string;
  /** Undefined when no response head was sent. */
  readonly status: number | undefined;
  readonly statusMessage: string | undefined;
  /** The response's Content-Type value. */
  readonly contentType: string | undefined;
  readonly requestHttpVersion: string;
  readonly responseHttpVersion: string | undefined;
  readonly requestHeaders: readonly HeaderPair[];
  /** Empty when there was no response. */
  readonly responseHeaders: readonly HeaderPair[];
  /** Whole request body length on the wire, when known. */
  readonly requestSize: number | undefined;
  /** Response body bytes delivered (or its whole length on the wire), when known. */
  readonly responseSize: number | undefined;
  readonly durationMs: number | undefined;
  readonly timings: FlowTimings;
  /** `aborted` when the exchange broke off without an error of its own. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  readonly incomplete: boolean;
  /** The response was made by a hook or the proxy. */
  readonly synthetic: boolean;
  readonly tags: readonly string[];
  readonly mode: string | undefined;
  readonly user: string | undefined;
  readonly client: { readonly address: string; readonly port: number };
  readonly connectionId: number;
  readonly server: { readonly address: string; readonly port: number } | undefined;
  /** What TLS negotiated with the client and the origin (flow.tls); undefined when neither side spoke TLS. */
  readonly tls: FlowTls | undefined;
  readonly isWebSocket: boolean;
  readonly isSse: boolean;
  /** WebSocket messages passed on but not recorded (the record limits). */
  readonly webSocketOmitted: number;
}

/** A stored flow with its bodies and messages. */
export interface StoredFlow extends StoredFlowHead {
  readonly requestBody: StoredBody | undefined;
  readonly responseBody: StoredBody | undefined;
  readonly webSocketMessages: readonly StoredWebSocketMessage[];
  readonly sseEvents: readonly StoredSseEvent[];
}

/** What a `where` predicate sees: the head, and the decoded body texts loaded only when asked for. */
export interface FlowRow extends StoredFlowHead {
  requestText(): string | undefined;
  responseText(): string | undefined;
}

/** Facts about a flow that the Flow object does not carry; `FlowRecord` (the 'flow' event) fits. */
export interface AppendExtra {
  /** Status sent to the client (undefined: no response head went out). */
  readonly status?: number | undefined;
  /** Response body bytes forwarded to the client. */
  readonly responseBytes?: number | undefined;
  readonly durationMs?: number | undefined;
  /** The record's error, which says `aborted` with the cause when the flow broke off. */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** The mode/listener that took the flow (`regular`, `transparent`, `reverse:…`, `socks5`…). */
  readonly mode?: string | undefined;
  /** TLS facts, when the flow's own (`flow.tls`) are not the ones to store. */
  readonly tls?: FlowTls | undefined;
}

/** `query` options. */
export interface QueryOptions {
  /** Keeps only the rows it returns true for; body texts are read lazily, only for rows that ask. */
  readonly where?: ((row: FlowRow) => boolean) | undefined;
  /** At most this many flows (default: all). */
  readonly limit?: number | undefined;
  /** Skips this many matching flows first. */
  readonly offset?: number | undefined;
  /** Only flows whose store id is above this (default 0: all); how a follower reads what is new. */
  readonly after?: number | undefined;
  /** By store id, i.e. append order (default `asc`). */
  readonly order?: 'asc' | 'desc' | undefined;
  /** Load bodies and messages (default true); false returns them empty, for listings. */
  readonly bodies?: boolean | undefined;
}

/** `openStore` options. */
export interface StoreOptions {
  /** Open an existing store for reading only: no migration, `append` throws. */
  readonly readonly?: boolean | undefined;
  /** Bytes of each body kept; longer ones are cut and marked `cut` (default 8 MiB). */
  readonly storeBodyLimit?: number | undefined;
  /** Prune the oldest flows once the database holds more than this many bytes (default: unlimited). */
  readonly maxSize?: number | undefined;
  /** Write a batch once this many flows are queued (default 200). */
  readonly batchSize?: number | undefined;
  /** Write queued flows at most this many ms after they were appended (default 50). */
  readonly flushIntervalMs?: number | undefined;
  /** Flows held in memory at most; reaching it writes the queue at once, inside `append` (default 2000). */
  readonly maxQueue?: number | undefined;
  /** Called when a background write fails; those flows are counted in `failedFlows`, the store goes on. */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** Counters of a store since it was opened. */
export interface StoreStats {
  readonly appended: number;
  readonly written: number;
  readonly queued: number;
  readonly batches: number;
  /** Times the queue was full and `append` wrote it synchronously. */
  readonly syncFlushes: number;
  readonly failedFlows: number;
  readonly prunedFlows: number;
  readonly cutBodies: number;
}

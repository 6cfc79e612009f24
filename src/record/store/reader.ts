import type { FlowTimings } from '../../flow/flow.js';
import type { ClientTlsFacts, FlowTls, OriginTlsFacts } from '../../flow/tls-facts.js';
import type { WebSocketDirection } from '../../flow/ws-message.js';
import type { Database } from './driver.js';
import { rowText } from './body-text.js';
import type { BodyRowData, FlowRowData } from './flow-rows.js';
import type {
  FlowRow,
  HeaderPair,
  QueryOptions,
  StoredBody,
  StoredFlow,
  StoredFlowHead,
  StoredSseEvent,
  StoredWebSocketMessage,
} from './types.js';

/** A `flows` row as read back, with its id. */
export type FlowsRow = FlowRowData & { id: number };
interface BodiesRow {
  side: 'request' | 'response';
  raw: Buffer;
  content_encoding: string | null;
  text: string | null;
  text_is_raw: number;
  cut: number;
  full_length: number | null;
}
interface MessagesRow {
  seq: number;
  direction: WebSocketDirection;
  time: number;
  type: 'text' | 'binary';
  data: Buffer;
  size: number;
  cut: number;
}
interface EventsRow {
  seq: number;
  event: string | null;
  data: string;
  last_id: string | null;
  retry: number | null;
}

// Rows are read a page at a time: better-sqlite3 allows no other statement on the connection
// while one iterates, and a `where` predicate may read a body.
const PAGE = 256;

/** Reads stored flows back as plain objects. */
export class StoreReader {
  readonly #page: { asc: (after: number) => FlowsRow[]; desc: (before: number) => FlowsRow[] };
  readonly #one: (id: number) => FlowsRow | undefined;
  readonly #bodies: (id: number) => BodiesRow[];
  readonly #text: (id: number, side: string) => string | undefined;
  readonly #messages: (id: number) => MessagesRow[];
  readonly #events: (id: number) => EventsRow[];

  constructor(db: Database) {
    const asc = db.prepare<[number, number], FlowsRow>('SELECT * FROM flows WHERE id > ? ORDER BY id ASC LIMIT ?');
    const desc = db.prepare<[number, number], FlowsRow>('SELECT * FROM flows WHERE id < ? ORDER BY id DESC LIMIT ?');
    const one = db.prepare<[number], FlowsRow>('SELECT * FROM flows WHERE id = ?');
    const bodies = db.prepare<[number], BodiesRow>(
      'SELECT side, raw, content_encoding, text, text_is_raw, cut, full_length FROM bodies WHERE flow_id = ?',
    );
    // The text as the body_texts view has it: `raw` itself where the two would be the same.
    const text = db
      .prepare<[number, string], string | null>(
        'SELECT CASE WHEN text_is_raw = 1 THEN CAST(raw AS TEXT) ELSE text END FROM bodies WHERE flow_id = ? AND side = ?',
      )
      .pluck();
    const messages = db.prepare<[number], MessagesRow>(
      'SELECT seq, direction, time, type, data, size, cut FROM ws_messages WHERE flow_id = ? ORDER BY seq',
    );
    const events = db.prepare<[number], EventsRow>(
      'SELECT seq, event, data, last_id, retry FROM sse_events WHERE flow_id = ? ORDER BY seq',
    );
    this.#page = { asc: (after) => asc.all(after, PAGE), desc: (before) => desc.all(before, PAGE) };
    this.#one = (id) => one.get(id);
    this.#bodies = (id) => bodies.all(id);
    this.#text = (id, side) => text.get(id, side) ?? undefined;
    this.#messages = (id) => messages.all(id);
    this.#events = (id) => events.all(id);
  }

  /** Matching flows in store-id order, after `offset`, at most `limit`. */
  query(options: QueryOptions = {}): StoredFlow[] {
    const { where, offset = 0, limit = Number.POSITIVE_INFINITY, order = 'asc', bodies = true, after = 0 } = options;
    const out: StoredFlow[] = [];
    if (limit <= 0) return out;
    let skipped = 0;
    let cursor = order === 'asc' ? after : Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = order === 'asc' ? this.#page.asc(cursor) : this.#page.desc(cursor);
      for (const row of rows) {
        if (row.id <= after) return out;
        const head = toHead(row);
        if (where && !where(this.#lazy(head))) continue;
        if (skipped < offset) {
          skipped += 1;
          continue;
        }
        out.push(
          bodies
            ? this.#complete(head)
            : { ...head, requestBody: undefined, responseBody: undefined, webSocketMessages: [], sseEvents: [] },
        );
        if (out.length >= limit) return out;
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < PAGE) return out;
      cursor = last.id;
    }
  }

  /** One flow by its store id. */
  get(id: number): StoredFlow | undefined {
    const row = this.#one(id);
    return row ? this.#complete(toHead(row)) : undefined;
  }

  #lazy(head: StoredFlowHead): FlowRow {
    return {
      ...head,
      requestText: () => this.#text(head.id, 'request'),
      responseText: () => this.#text(head.id, 'response'),
    };
  }

  #complete(head: StoredFlowHead): StoredFlow {
    const bodies = this.#bodies(head.id);
    const body = (side: string): StoredBody | undefined => storedBody(bodies.find((candidate) => candidate.side === side));
    const webSocketMessages: StoredWebSocketMessage[] = head.isWebSocket
      ? this.#messages(head.id).map((row) => ({ ...row, cut: row.cut === 1 }))
      : [];
    const sseEvents: StoredSseEvent[] = head.isSse
      ? this.#events(head.id).map((row) => ({
          seq: row.seq,
          event: row.event ?? undefined,
          data: row.data,
          id: row.last_id ?? undefined,
          retry: row.retry ?? undefined,
        }))
      : [];
    return { ...head, requestBody: body('request'), responseBody: body('response'), webSocketMessages, sseEvents };
  }
}

/** A `flows` row as a StoredFlowHead. */
export function toHead(row: FlowsRow): StoredFlowHead {
  return {
    id: row.id,
    proxyFlowId: row.proxy_flow_id,
    startedAt: row.started_at,
    method: row.method,
    url: row.url,
    host: row.host,
    path: row.path,
    status: row.status ?? undefined,
    statusMessage: row.status_message ?? undefined,
    contentType: row.content_type ?? undefined,
    requestHttpVersion: row.request_http_version,
    responseHttpVersion: row.response_http_version ?? undefined,
    requestHeaders: JSON.parse(row.request_headers) as HeaderPair[],
    responseHeaders: row.response_headers === null ? [] : (JSON.parse(row.response_headers) as HeaderPair[]),
    requestSize: row.request_size ?? undefined,
    responseSize: row.response_size ?? undefined,
    durationMs: row.duration_ms ?? undefined,
    timings: JSON.parse(row.timings) as FlowTimings,
    error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? '' },
    incomplete: row.incomplete === 1,
    synthetic: row.synthetic === 1,
    tags: JSON.parse(row.tags) as string[],
    mode: row.mode ?? undefined,
    user: row.user ?? undefined,
    client: { address: row.client_address, port: row.client_port },
    connectionId: row.connection_id,
    server: row.server_address === null ? undefined : { address: row.server_address, port: row.server_port ?? 0 },
    tls: storedTls(row),
    isWebSocket: row.is_websocket === 1,
    isSse: row.is_sse === 1,
    webSocketOmitted: row.ws_omitted,
  };
}

/** The values of header `name` (any case) in a stored header list, in order. */
export function headerValues(headers: readonly HeaderPair[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

/** A body row as a StoredBody (undefined for no row): what the reader and the in-memory ring both hand out. */
export function storedBody(row: Omit<BodyRowData, 'side'> | undefined): StoredBody | undefined {
  return row === undefined
    ? undefined
    : {
        raw: row.raw,
        contentEncoding: row.content_encoding ?? undefined,
        text: rowText(row),
        cut: row.cut === 1,
        fullLength: row.full_length ?? undefined,
      };
}

/** Both sides' TLS facts of a row; undefined when neither was stored. */
function storedTls(row: Pick<FlowRowData, 'client_tls' | 'origin_tls'>): FlowTls | undefined {
  if (row.client_tls === null && row.origin_tls === null) return undefined;
  return {
    ...(row.client_tls === null ? {} : { client: JSON.parse(row.client_tls) as ClientTlsFacts }),
    ...(row.origin_tls === null ? {} : { origin: JSON.parse(row.origin_tls) as OriginTlsFacts }),
  };
}

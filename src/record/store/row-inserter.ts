import type { Database } from './driver.js';
import type { BodyRowData, FlowRowData, FlowRows } from './flow-rows.js';

/** A `flows` row's values in FLOW_COLUMNS order. */
type FlowValues = FlowRowData[keyof FlowRowData][];
/** A `bodies` row's values in BODY_COLUMNS order (after the flow id). */
type BodyValues = BodyRowData[keyof BodyRowData][];

/**
 * One flow's rows as the writer thread binds them: each row a list of values in its INSERT's
 * column order. Positional rows cost less to post to the thread (a structured clone of an object
 * writes every key, 37 for `flows`) and to bind (no lookup by name); docs/performance.md.
 */
export interface PackedRows {
  readonly flow: FlowValues;
  readonly bodies: BodyValues[];
  readonly messages: FlowRows['messages'][number][keyof FlowRows['messages'][number]][][];
  readonly events: FlowRows['events'][number][keyof FlowRows['events'][number]][][];
}

/** Turns one flow's rows into the positional form `rowInserter` binds. */
export function packRows(rows: FlowRows): PackedRows {
  return {
    flow: flowValues(rows.flow),
    bodies: rows.bodies.map((b) => [b.side, b.raw, b.content_encoding, b.text, b.text_is_raw, b.cut, b.full_length]),
    messages: rows.messages.map((m) => [m.seq, m.direction, m.time, m.type, m.data, m.size, m.cut]),
    events: rows.events.map((e) => [e.seq, e.event, e.data, e.last_id, e.retry]),
  };
}

/**
 * A `flows` row's values in FLOW_COLUMNS order, read property by property (a loop over the
 * column names costs 3 µs a flow in keyed lookups; test/unit/store-rows.test.ts checks the order).
 */
export function flowValues(f: FlowRowData): FlowValues {
  // biome-ignore format: one line per group of columns, in FLOW_COLUMNS order
  return [
    f.proxy_flow_id, f.started_at, f.method, f.url, f.host, f.path, f.status, f.status_message, f.content_type,
    f.request_http_version, f.response_http_version, f.request_headers, f.response_headers, f.request_size,
    f.response_size, f.duration_ms, f.timings, f.error_code, f.error_message, f.incomplete, f.synthetic, f.tags,
    f.mode, f.user, f.client_address, f.client_port, f.connection_id, f.server_address, f.server_port, f.client_tls,
    f.origin_tls, f.tls_sni, f.origin_cert_issuer, f.origin_cert_sha256, f.is_websocket, f.is_sse, f.ws_omitted,
  ];
}

/**
 * Prepares the store's INSERT statements on `db` and returns a function that inserts one flow's
 * packed rows (call it inside a transaction) and returns how many of its bodies were cut.
 */
export function rowInserter(db: Database): (rows: PackedRows) => number {
  const flow = db.prepare(`INSERT INTO flows (${FLOW_COLUMNS.join(', ')}) VALUES (${FLOW_COLUMNS.map(() => '?').join(', ')})`);
  const body = db.prepare(`INSERT INTO bodies (flow_id, ${BODY_COLUMNS.join(', ')}) VALUES (?${', ?'.repeat(BODY_COLUMNS.length)})`);
  const message = db.prepare(
    'INSERT INTO ws_messages (flow_id, seq, direction, time, type, data, size, cut) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const event = db.prepare('INSERT INTO sse_events (flow_id, seq, event, data, last_id, retry) VALUES (?, ?, ?, ?, ?, ?)');
  const cutAt = BODY_COLUMNS.indexOf('cut');
  return (rows) => {
    const flowId = flow.run(rows.flow).lastInsertRowid;
    let cut = 0;
    for (const values of rows.bodies) {
      body.run(flowId, values);
      cut += values[cutAt] as number;
    }
    for (const values of rows.messages) message.run(flowId, values);
    for (const values of rows.events) event.run(flowId, values);
    return cut;
  };
}

/** The `bodies` columns after `flow_id`, in the order `packRows` lists a body's values. */
export const BODY_COLUMNS = [
  'side',
  'raw',
  'content_encoding',
  'text',
  'text_is_raw',
  'cut',
  'full_length',
] as const satisfies readonly (keyof BodyRowData)[];

/** The `flows` columns but `id`, in the order `flowValues` lists them. */
export const FLOW_COLUMNS = [
  'proxy_flow_id',
  'started_at',
  'method',
  'url',
  'host',
  'path',
  'status',
  'status_message',
  'content_type',
  'request_http_version',
  'response_http_version',
  'request_headers',
  'response_headers',
  'request_size',
  'response_size',
  'duration_ms',
  'timings',
  'error_code',
  'error_message',
  'incomplete',
  'synthetic',
  'tags',
  'mode',
  'user',
  'client_address',
  'client_port',
  'connection_id',
  'server_address',
  'server_port',
  'client_tls',
  'origin_tls',
  'tls_sni',
  'origin_cert_issuer',
  'origin_cert_sha256',
  'is_websocket',
  'is_sse',
  'ws_omitted',
] as const satisfies readonly (keyof FlowRowData)[];

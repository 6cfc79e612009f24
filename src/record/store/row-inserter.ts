import type { Database } from './driver.js';
import type { FlowRowData, FlowRows } from './flow-rows.js';

/**
 * Prepares the store's INSERT statements on `db` and returns a function that inserts one flow's
 * rows (call it inside a transaction) and returns how many of its bodies were cut.
 */
export function rowInserter(db: Database): (rows: FlowRows) => number {
  const flow = db.prepare(
    `INSERT INTO flows (${FLOW_COLUMNS.join(', ')}) VALUES (${FLOW_COLUMNS.map((column) => `@${column}`).join(', ')})`,
  );
  const body = db.prepare(
    'INSERT INTO bodies (flow_id, side, raw, content_encoding, text, text_is_raw, cut, full_length) VALUES (@flow_id, @side, @raw, @content_encoding, @text, @text_is_raw, @cut, @full_length)',
  );
  const message = db.prepare(
    'INSERT INTO ws_messages (flow_id, seq, direction, time, type, data, size, cut) VALUES (@flow_id, @seq, @direction, @time, @type, @data, @size, @cut)',
  );
  const event = db.prepare(
    'INSERT INTO sse_events (flow_id, seq, event, data, last_id, retry) VALUES (@flow_id, @seq, @event, @data, @last_id, @retry)',
  );
  return (rows) => {
    const flowId = flow.run(rows.flow).lastInsertRowid;
    let cut = 0;
    for (const row of rows.bodies) {
      body.run({ flow_id: flowId, ...row });
      cut += row.cut;
    }
    for (const row of rows.messages) message.run({ flow_id: flowId, ...row });
    for (const row of rows.events) event.run({ flow_id: flowId, ...row });
    return cut;
  };
}

const FLOW_COLUMNS = [
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

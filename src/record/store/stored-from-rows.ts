import type { BodyRowData, FlowRows } from './flow-rows.js';
import { storedBody, toHead } from './reader.js';
import type { StoredBody, StoredFlow } from './types.js';

/**
 * The StoredFlow a store would read back for these rows, without a store: how the in-memory ring
 * answers `proxy.query` in the same shape as a store does. `id` stands in for the store's id.
 */
export function storedFromRows(rows: FlowRows, id: number): StoredFlow {
  const head = toHead({ ...rows.flow, id });
  const body = (side: BodyRowData['side']): StoredBody | undefined => storedBody(rows.bodies.find((candidate) => candidate.side === side));
  return {
    ...head,
    requestBody: body('request'),
    responseBody: body('response'),
    webSocketMessages: rows.messages.map((message) => ({
      seq: message.seq,
      direction: message.direction === 'client-to-server' ? 'client-to-server' : 'server-to-client',
      time: message.time,
      type: message.type === 'text' ? 'text' : 'binary',
      data: message.data,
      size: message.size,
      cut: message.cut === 1,
    })),
    sseEvents: rows.events.map((event) => ({
      seq: event.seq,
      event: event.event ?? undefined,
      data: event.data,
      id: event.last_id ?? undefined,
      retry: event.retry ?? undefined,
    })),
  };
}

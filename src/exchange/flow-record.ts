// The end of a flow, shared by plain requests (exchange.ts) and WebSocket handshakes
// (websocket/websocket.ts): its end time, `flow.incomplete`, and the summary emitted as 'flow'.
import { performance } from 'node:perf_hooks';
import type { FlowRecord } from '../events.js';
import type { Flow } from '../flow/flow.js';

/** Where and when the flow began, as its record shows it. */
export interface FlowOrigin {
  readonly client: FlowRecord['client'];
  /** `performance.now()` when the request head arrived. */
  readonly startedAt: number;
}

/** How the response went out to the client. */
export interface Delivery {
  /** Status sent to the client; undefined when no response head went out. */
  readonly status: number | undefined;
  /** Response body bytes forwarded. */
  readonly bytes: number;
  /** False when the response did not reach the client whole (the client or the origin broke off). */
  readonly complete: boolean;
  /** Why it broke off, when a stream said so ("the origin broke off the response body: …"). */
  readonly cause?: string | undefined;
}

const UNEXPLAINED = 'the connection closed before the response was complete';

/** The flow's summary for the 'flow' event; marks the flow `incomplete` when its response did not reach the client whole. */
export function flowRecord(flow: Flow, at: FlowOrigin, delivery: Delivery): FlowRecord {
  flow.incomplete = !delivery.complete;
  return {
    id: flow.id,
    method: flow.request.method,
    url: flow.request.url,
    status: delivery.status,
    contentType: flow.response?.header('content-type'),
    responseBytes: delivery.bytes,
    durationMs: performance.now() - at.startedAt,
    error: flow.error
      ? { code: flow.error.code, message: flow.error.message }
      : delivery.complete
        ? undefined
        : { code: 'aborted', message: delivery.cause ?? UNEXPLAINED },
    client: at.client,
    mode: flow.mode,
    ...(flow.tls ? { tls: flow.tls } : {}),
  };
}

/**
 * Ends a flow: stamps its end now, waits for `pending` (an upload still being read, onError hooks
 * still running), then hands it to `onFlowEnd` with its record, `delivery` read at that moment.
 */
export function endFlow(
  onFlowEnd: (flow: Flow, record: FlowRecord) => void,
  flow: Flow,
  at: FlowOrigin,
  delivery: () => Delivery,
  pending: readonly Promise<unknown>[] = [],
): void {
  flow.timings.end = Date.now();
  const end = (): void => onFlowEnd(flow, flowRecord(flow, at, delivery()));
  if (pending.length === 0) end();
  else void Promise.allSettled(pending).then(end);
}

/** A stream error as one line for a flow record: its message, and its code when it has one. */
export function describeError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

import type { FlowRecord } from '../../events.js';
import type { StoredBody, StoredFlow, StoredFlowHead } from '../../record/store/types.js';
import { formatFlow } from './flow-log.js';

/** The live log's line for a stored flow, prefixed by its store id: `12  GET https://… 200 application/json 1.2 kB 8 ms`. */
export function tableLine(flow: StoredFlowHead): string {
  return `${String(flow.id).padStart(5)}  ${formatFlow(recordOfStored(flow))}`;
}

/** The 'flow' event record a stored flow was written with, as far as the store keeps it (`id` is the proxy's flow id). */
export function recordOfStored(flow: StoredFlowHead): FlowRecord {
  return {
    id: flow.proxyFlowId,
    method: flow.method,
    url: flow.url,
    status: flow.status,
    contentType: flow.contentType,
    responseBytes: flow.responseSize ?? 0,
    durationMs: flow.durationMs ?? 0,
    error: flow.error === undefined ? undefined : (flow.error as FlowRecord['error']),
    client: { address: flow.client.address, port: flow.client.port, ...(flow.user === undefined ? {} : { user: flow.user }) },
    mode: flow.mode ?? 'regular',
  };
}

/** A stored flow as plain JSON: bodies as decoded `text` where the store has it, else `base64` of the bytes as sent. */
export function flowJson(flow: StoredFlow): Record<string, unknown> {
  const { requestBody, responseBody, webSocketMessages, ...head } = flow;
  return {
    ...head,
    requestBody: bodyJson(requestBody),
    responseBody: bodyJson(responseBody),
    webSocketMessages: webSocketMessages.map(({ data, ...message }) =>
      message.type === 'text' ? { ...message, text: data.toString('utf8') } : { ...message, base64: data.toString('base64') },
    ),
  };
}

function bodyJson(body: StoredBody | undefined): Record<string, unknown> | undefined {
  if (body === undefined) return undefined;
  const { raw, text, ...rest } = body;
  return text === undefined ? { ...rest, base64: raw.toString('base64') } : { ...rest, text };
}

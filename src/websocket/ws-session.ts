import type { Duplex } from 'node:stream';
import { isMitmError } from '../errors.js';
import type { MessageRecord } from '../events.js';
import type { Flow } from '../flow/flow.js';
import { readExtensions } from '../flow/ws-deflate.js';
import { closeFrame } from '../flow/ws-frames.js';
import { WebSocketLog, type WebSocketDirection } from '../flow/ws-message.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import { pipeBatched } from '../net/write-batch.js';
import type { DirectionIo } from './ws-capture.js';
import { relayDirection } from './ws-relay.js';
import { tapDirection } from './ws-tap.js';

/** An upgraded connection pair, after the 101 went to the client. */
export interface WebSocketLink {
  readonly flow: Flow;
  readonly hooks: HookPipeline;
  readonly client: Duplex;
  /** Client bytes that arrived with the upgrade request. */
  readonly clientHead: Buffer;
  readonly origin: Duplex;
  /** Origin bytes that arrived with its 101. */
  readonly originHead: Buffer;
  /** The origin's Sec-WebSocket-Extensions: what the frames really carry. */
  readonly extensions: string | undefined;
  /** Message bytes recorded with the flow (0: recording is off). */
  readonly recordLimit: number;
  /** Largest message shown to hooks. */
  readonly maxBuffer: number;
  /** Counts bytes sent to the client. */
  readonly onBytes: (count: number) => void;
  /** Told of each message as it passes (the 'message' event); undefined when nobody listens. */
  readonly onMessage: ((flow: Flow, message: MessageRecord) => void) | undefined;
}

// 1011: the server met a condition that kept it from fulfilling the request (RFC 6455 §7.4.1).
const INTERNAL_ERROR = 1011;

/**
 * Relays an upgraded connection. Frames are parsed only when someone looks at them: an
 * onWebSocketMessage hook (ws-relay.ts: messages held, shown and maybe changed), or a 'message'
 * listener or recording (ws-tap.ts: the bytes piped, the messages read beside the pipe until the
 * flow's record is full). Otherwise, and for extensions other than permessage-deflate, which the
 * relay could not decode, bytes are piped as they are. A hook that throws closes both sides with 1011.
 */
export function relayWebSocket(link: WebSocketLink): void {
  const { flow, client, origin } = link;
  const negotiated = readExtensions(link.extensions);
  const hooked = link.hooks.has('onWebSocketMessage');
  const teardown = (): void => {
    client.destroy();
    origin.destroy();
  };
  client.on('error', teardown);
  origin.on('error', teardown);
  const observe = link.onMessage;
  if (negotiated.kind === 'unknown' || (!hooked && link.recordLimit === 0 && observe === undefined)) {
    splice(link);
    return;
  }
  const log = link.recordLimit > 0 ? new WebSocketLog(link.recordLimit) : undefined;
  flow.webSocket = log;
  const shared: Pick<DirectionIo, 'deflate' | 'log' | 'maxBuffer'> = {
    deflate: negotiated.kind === 'deflate' ? negotiated.agreement : undefined,
    log,
    maxBuffer: link.maxBuffer,
  };
  // With no hook nothing is changed: the bytes are piped and the messages read beside the pipe.
  const relay = hooked
    ? (io: DirectionIo) => relayDirection({ ...io, hook: (message) => link.hooks.webSocketMessage(flow, message) })
    : tapDirection;
  const observer = (direction: WebSocketDirection): DirectionIo['observe'] =>
    observe &&
    ((type, data, size) =>
      observe(flow, {
        flowId: flow.id,
        url: flow.request.url,
        kind: 'websocket',
        direction,
        type,
        size,
        time: Date.now(),
        ...(type === 'text' ? { text: data.toString('utf8') } : {}),
      }));
  const fail = (error: unknown): void => {
    if (!isMitmError(error) || flow.error) {
      teardown();
      return;
    }
    // A hook failed: say so to both ends in a close frame rather than cutting them off mid-message.
    flow.error = error;
    void link.hooks.error(flow, error);
    const reason = 'mitm: an onWebSocketMessage hook failed';
    if (!client.writableEnded) client.end(closeFrame(INTERNAL_ERROR, reason, false));
    if (!origin.writableEnded) origin.end(closeFrame(INTERNAL_ERROR, reason, true));
  };
  const toOrigin = { ...shared, direction: 'client-to-server', from: client, to: origin, head: link.clientHead } as const;
  relay({ ...toOrigin, onBytes: () => undefined, observe: observer('client-to-server') }).catch(fail);
  const toClient = { ...shared, direction: 'server-to-client', from: origin, to: client, head: link.originHead } as const;
  relay({ ...toClient, onBytes: link.onBytes, observe: observer('server-to-client') }).catch(fail);
}

/** Pipes the two connections into each other, untouched; an orderly end on one side ends the other. */
function splice(link: WebSocketLink): void {
  const { client, origin } = link;
  if (link.clientHead.length > 0) origin.write(link.clientHead);
  if (link.originHead.length > 0) {
    link.onBytes(link.originHead.length);
    client.write(link.originHead);
  }
  origin.on('data', (chunk: Buffer) => link.onBytes(chunk.length));
  pipeBatched(client, origin);
  pipeBatched(origin, client);
  client.once('close', () => origin.end());
  origin.once('close', () => client.end());
}

/** Which way a WebSocket message travels. */
export type WebSocketDirection = 'client-to-server' | 'server-to-client';

/**
 * One WebSocket data message, reassembled from its frames and decompressed, as
 * `onWebSocketMessage` hooks see and change it. `data` is a string for text messages and a Buffer
 * for binary ones; a hook may change `type` and `data` in place.
 */
export interface WebSocketMessage {
  readonly direction: WebSocketDirection;
  type: 'text' | 'binary';
  data: string | Buffer;
}

/** A message as it was passed on, kept with its flow. */
export interface RecordedWebSocketMessage {
  readonly direction: WebSocketDirection;
  readonly type: 'text' | 'binary';
  /** The payload, decompressed; only its start when `truncated`. */
  readonly data: Buffer;
  /** The whole payload's length in bytes. */
  readonly size: number;
  readonly truncated: boolean;
  /** When the proxy passed it on, in epoch milliseconds. */
  readonly time: number;
}

// Each kept message costs an object besides its bytes: a connection of tiny messages (heartbeats)
// must not grow a flow without bound either.
const MAX_MESSAGES = 1000;

/**
 * The messages of one WebSocket connection as passed on, bounded like recorded bodies: at most
 * `byteLimit` payload bytes and 1000 messages per flow. Past either, messages are only counted.
 */
export class WebSocketLog {
  readonly #byteLimit: number;
  readonly #messages: RecordedWebSocketMessage[] = [];
  #bytes = 0;
  #omitted = 0;

  constructor(byteLimit: number) {
    this.#byteLimit = byteLimit;
  }

  /** Messages recorded so far, in the order they were passed on (both directions interleaved). */
  get messages(): readonly RecordedWebSocketMessage[] {
    return this.#messages;
  }

  /** Messages passed on but not recorded, the limits being reached. */
  get omitted(): number {
    return this.#omitted;
  }

  /** Payload bytes the log still has room for (0 once full). */
  get room(): number {
    return this.#messages.length >= MAX_MESSAGES ? 0 : Math.max(0, this.#byteLimit - this.#bytes);
  }

  /** Records a message; `data` may already be cut to `room` bytes, `size` is the whole length. */
  add(direction: WebSocketDirection, type: 'text' | 'binary', data: Buffer, size: number, time = Date.now()): void {
    const room = this.room;
    if (room === 0 && size > 0) {
      this.#omitted += 1;
      return;
    }
    if (this.#messages.length >= MAX_MESSAGES) {
      this.#omitted += 1;
      return;
    }
    // A copy: the payload may be a view into a much larger socket chunk.
    const kept = Buffer.from(data.subarray(0, Math.min(room, data.length)));
    this.#bytes += kept.length;
    this.#messages.push({ direction, type, data: kept, size, truncated: kept.length < size, time });
  }
}

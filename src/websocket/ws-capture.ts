import type { Duplex } from 'node:stream';
import type { DeflateAgreement } from '../flow/ws-deflate.js';
import { Opcode } from '../flow/ws-frames.js';
import type { WebSocketDirection, WebSocketLog } from '../flow/ws-message.js';

/** One direction of an upgraded connection, as both relays (ws-relay.ts, ws-tap.ts) see it. */
export interface DirectionIo {
  readonly direction: WebSocketDirection;
  readonly from: Duplex;
  readonly to: Duplex;
  /** Bytes of `from` that arrived with the handshake. */
  readonly head: Buffer;
  /** permessage-deflate as the origin agreed to it, or undefined. */
  readonly deflate: DeflateAgreement | undefined;
  /** Where passed-on messages are recorded; undefined when recording is off. */
  readonly log: WebSocketLog | undefined;
  /** Largest frame parsed; a larger one ends the inspection and the rest passes untouched. */
  readonly maxBuffer: number;
  /** Counts the bytes written to `to`. */
  readonly onBytes: (count: number) => void;
  /** Told of each message passed on: its start (at least OBSERVED_BYTES, when there is that much) and whole size. */
  readonly observe: ((type: 'text' | 'binary', data: Buffer, size: number) => void) | undefined;
}

// How much of a streamed message an observer sees when the record keeps less.
const OBSERVED_BYTES = 4096;

/** How many bytes of a message's start are still wanted: by the record's room, or by an observer. */
export function wantedBytes(io: DirectionIo): number {
  return Math.max(io.log?.room ?? 0, io.observe ? OBSERVED_BYTES : 0);
}

/** Records a message passed on (the log copies what it keeps) and tells the observer. */
export function recordMessage(io: DirectionIo, type: 'text' | 'binary', data: Buffer, size: number): void {
  io.log?.add(io.direction, type, data, size);
  io.observe?.(type, data, size);
}

/** The start of a message whose frames pass one by one: what the record and the observer get. */
export class MessageStart {
  #parts: Buffer[] = [];
  #kept = 0;
  /** The whole payload's length so far, decompressed. */
  total = 0;

  /** Adds a frame's (decompressed) payload, keeping it while the message's start is shorter than `wanted`. */
  add(plain: Buffer, wanted: number): void {
    const room = wanted - this.#kept;
    if (room > 0) {
      const kept = room >= plain.length ? plain : plain.subarray(0, room);
      this.#parts.push(kept);
      this.#kept += kept.length;
    }
    this.total += plain.length;
  }

  /** The kept start; a one-frame message's payload as it is (the log copies what it keeps). */
  bytes(): Buffer {
    return this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
  }
}

/** `opcode`'s message type. */
export function typeOf(opcode: number): 'text' | 'binary' {
  return opcode === Opcode.text ? 'text' : 'binary';
}

import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MitmError } from '../errors.js';
import { MessageInflater } from '../flow/ws-deflate.js';
import { encodeFrame, FrameError, FrameParser, Opcode, type Frame } from '../flow/ws-frames.js';
import type { WebSocketMessage } from '../flow/ws-message.js';
import { batchWrites } from '../net/write-batch.js';
import { MessageStart, recordMessage, typeOf, wantedBytes, type DirectionIo } from './ws-capture.js';

/** One direction of an upgraded connection whose messages the onWebSocketMessage hooks see. */
export interface DirectionOptions extends DirectionIo {
  /** Runs the onWebSocketMessage hooks (false: drop). */
  readonly hook: (message: WebSocketMessage) => Promise<boolean>;
}

/** A data message whose frames are arriving. */
interface Pending {
  readonly opcode: number;
  readonly compressed: boolean;
  /** Held for the hooks; false once it streams. */
  held: boolean;
  frames: Frame[];
  size: number;
  /** A frame of it went out already, so later ones are continuations. */
  started: boolean;
  /** Its start, decompressed, for the record. */
  readonly start: MessageStart;
}

/**
 * Relays one direction frame by frame for the hooks until `from` ends, then ends `to` (with no
 * hook, ws-tap.ts pipes the bytes instead). A message is held until it is whole and shown to the
 * hooks. Frames the hooks left alone go out as the exact bytes that came in; control frames
 * (close, ping, pong) always do, so close codes and reasons reach the other side unchanged.
 * Resolves when `from` ended; rejects on a protocol error, data that does not inflate, or a hook
 * that threw.
 */
export async function relayDirection(options: DirectionOptions): Promise<void> {
  const relay = new DirectionRelay(options);
  try {
    await relay.feed(options.head);
    let piped = relay.raw;
    if (!piped) {
      // destroyOnReturn: false: when a hook fails, `from` must stay open for the 1011 close frame.
      for await (const chunk of options.from.iterator({ destroyOnReturn: false })) {
        await relay.feed(chunk as Buffer);
        // A frame too large to inspect: the rest is piped, without a promise per chunk.
        if (relay.raw) {
          piped = true;
          break;
        }
      }
    }
    if (piped) await pipeRest(options);
    options.to.end();
  } finally {
    relay.close();
  }
}

/** Writes the rest of `from` to `to` as it comes, counted and batched per turn; resolves when `from` ended. */
function pipeRest(options: DirectionOptions): Promise<void> {
  const { from, to } = options;
  const batch = batchWrites(to);
  const resume = (): void => {
    from.resume();
  };
  to.on('drain', resume);
  // A closed `to` will never drain: read on, as #write does, so `from` still ends the relay.
  to.on('close', resume);
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed || to.writableEnded) return;
    options.onBytes(chunk.length);
    batch();
    if (!to.write(chunk)) from.pause();
  });
  return finished(from, { writable: false }).finally(() => {
    to.off('drain', resume);
    to.off('close', resume);
  });
}

class DirectionRelay {
  readonly #o: DirectionOptions;
  /** Client-to-server frames must be masked, server-to-client ones must not (RFC 6455 §5.1). */
  readonly #mask: boolean;
  /** The sender resets its compressor per message, so a message dropped or changed costs later ones nothing. */
  readonly #senderResets: boolean;
  readonly #parser: FrameParser;
  readonly #inflater = new MessageInflater();
  #message: Pending | undefined;
  /**
   * A compressed message was dropped or changed: the receiver's LZ77 window no longer matches the
   * sender's, so every later compressed message goes out decompressed, RSV1 cleared (RFC 7692 §6.1
   * lets each message choose).
   */
  #tainted = false;
  /** Inspection ended (a frame too large to hold): bytes pass untouched. */
  #raw = false;
  readonly #batch: () => void;

  constructor(options: DirectionOptions) {
    this.#o = options;
    this.#mask = options.direction === 'client-to-server';
    this.#senderResets = this.#mask ? options.deflate?.clientNoContextTakeover === true : options.deflate?.serverNoContextTakeover === true;
    this.#parser = new FrameParser(options.maxBuffer);
    this.#batch = batchWrites(options.to);
  }

  /** True once nothing is inspected any more: what `from` sends next can be piped as it comes. */
  get raw(): boolean {
    return this.#raw;
  }

  async feed(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (this.#raw) return this.#write(chunk);
    for (const frame of this.#parser.push(chunk)) await this.#frame(frame);
    if (!this.#parser.oversized) return;
    if (this.#tainted) throw new FrameError('a frame too large to inspect followed a changed compressed message');
    const held = this.#message?.held ? this.#message.frames : [];
    if (this.#message) this.#message.held = false;
    for (const frame of held) await this.#write(frame.raw);
    this.#raw = true;
    await this.#write(this.#parser.rest());
  }

  close(): void {
    this.#inflater.close();
  }

  async #frame(frame: Frame): Promise<void> {
    // Control frames may come between the fragments of a message (§5.4) and are never compressed.
    if (frame.opcode >= Opcode.close) return this.#write(frame.raw);
    if (frame.opcode !== Opcode.continuation) {
      if (this.#message) throw new FrameError('a new message began before the previous one ended');
      const compressed = frame.rsv1 && this.#o.deflate !== undefined;
      this.#message = { opcode: frame.opcode, compressed, held: true, frames: [], size: 0, started: false, start: new MessageStart() };
    }
    const message = this.#message;
    if (!message) throw new FrameError('a continuation frame without a message');
    if (frame.fin) this.#message = undefined;
    if (!message.held) return this.#stream(message, frame);
    message.frames.push(frame);
    message.size += frame.payload.length;
    if (message.size <= this.#o.maxBuffer) {
      if (frame.fin) await this.#deliver(message);
      return;
    }
    // Too large for the hooks: what was held goes on as it came, and the rest streams.
    message.held = false;
    for (const held of message.frames) await this.#stream(message, held);
    message.frames = [];
  }

  /** Passes one frame of a message the hooks do not see. */
  async #stream(message: Pending, frame: Frame): Promise<void> {
    // Inflated even when nobody reads it: the window must stay in step with the sender's.
    const plain = message.compressed ? await this.#inflater.inflate(frame.payload, frame.fin) : frame.payload;
    if (message.compressed && this.#tainted) {
      const opcode = message.started ? Opcode.continuation : message.opcode;
      await this.#write(encodeFrame({ fin: frame.fin, opcode, payload: plain, mask: this.#mask }));
    } else {
      await this.#write(frame.raw);
    }
    message.started = true;
    message.start.add(plain, wantedBytes(this.#o));
    if (frame.fin) recordMessage(this.#o, typeOf(message.opcode), message.start.bytes(), message.start.total);
  }

  /** Shows a complete message to the hooks, then sends it on: as it came when unchanged, else re-framed. */
  async #deliver(message: Pending): Promise<void> {
    const frames = message.frames;
    const payload = frames.length === 1 ? (frames[0] as Frame).payload : Buffer.concat(frames.map((frame) => frame.payload));
    const data = message.compressed ? await this.#inflater.inflate(payload, true) : payload;
    const type = typeOf(message.opcode);
    const hook = this.#o.hook;
    if (data.length > this.#o.maxBuffer) {
      await this.#send(frames, type, data, message.compressed && this.#tainted);
      return;
    }
    const text = type === 'text' ? data.toString('utf8') : undefined;
    // Hooks get a copy of binary data, so a change made in place is seen as a change.
    const shown: WebSocketMessage = { direction: this.#o.direction, type, data: text ?? Buffer.from(data) };
    if (!(await hook(shown))) {
      if (message.compressed) this.#taint();
      return;
    }
    const bytes = bytesOf(shown);
    const unchanged = shown.type === type && (text !== undefined ? shown.data === text : bytes.equals(data));
    if (!unchanged && message.compressed) this.#taint();
    await this.#send(frames, shown.type, bytes, !unchanged || (message.compressed && this.#tainted));
  }

  /** Sends a whole message: its original frames, or one new uncompressed frame carrying `data`. */
  async #send(frames: readonly Frame[], type: 'text' | 'binary', data: Buffer, reframe: boolean): Promise<void> {
    if (reframe) {
      const opcode = type === 'text' ? Opcode.text : Opcode.binary;
      await this.#write(encodeFrame({ fin: true, opcode, payload: data, mask: this.#mask }));
    } else {
      for (const frame of frames) await this.#write(frame.raw);
    }
    recordMessage(this.#o, type, data, data.length);
  }

  #taint(): void {
    if (!this.#senderResets) this.#tainted = true;
  }

  async #write(bytes: Buffer): Promise<void> {
    const to = this.#o.to;
    // After a teardown (or the 1011 close a failing hook causes) nothing more goes out.
    if (bytes.length === 0 || to.destroyed || to.writableEnded) return;
    this.#o.onBytes(bytes.length);
    this.#batch();
    if (!to.write(bytes)) await drained(to);
  }
}

function bytesOf(message: WebSocketMessage): Buffer {
  if (message.type !== 'text' && message.type !== 'binary') {
    throw new MitmError(
      'hook_failed',
      `an onWebSocketMessage hook set message.type to ${JSON.stringify(message.type)}; expected text or binary`,
    );
  }
  if (typeof message.data === 'string') return Buffer.from(message.data, 'utf8');
  if (Buffer.isBuffer(message.data)) return message.data;
  throw new MitmError('hook_failed', 'an onWebSocketMessage hook set message.data to something other than a string or a Buffer');
}

/** Resolves once `stream` takes writes again, or can never take them (closed). */
function drained(stream: Duplex): Promise<void> {
  if (stream.destroyed || !stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

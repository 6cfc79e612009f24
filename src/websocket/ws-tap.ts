import { finished } from 'node:stream/promises';
import { MessageInflater } from '../flow/ws-deflate.js';
import { FrameError, FrameParser, Opcode, type Frame } from '../flow/ws-frames.js';
import { batchWrites } from '../net/write-batch.js';
import { MessageStart, recordMessage, typeOf, wantedBytes, type DirectionIo } from './ws-capture.js';

// Compressed payload bytes waiting for the inflater past which `from` is paused: a sender faster
// than zlib must not grow the queue without bound.
const INFLATE_BACKLOG = 256 * 1024;

/**
 * Relays one direction that no hook looks at. With no hook nothing is held, changed or re-framed,
 * so every chunk goes on at once as it came (batched per event-loop turn, as a pipe), and a parser
 * beside the pipe reads the same bytes to record the messages and tell the observer: no promise, no
 * write and no copy per frame. Compressed messages are inflated for the record in order, off the
 * path of the bytes. The parser stops once the record is full and nobody observes, or at a frame
 * larger than `maxBuffer`; from then on only bytes flow. Resolves when `from` ended (and `to` was
 * ended); rejects on a protocol error or data that does not inflate, after the bytes went on.
 */
export async function tapDirection(io: DirectionIo): Promise<void> {
  const { from, to } = io;
  const batch = batchWrites(to);
  let fail: (error: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Observed by the races below; a failure after the relay ended has nobody left to tell.
  failure.catch(() => undefined);
  const resume = (): void => {
    // A closed `to` will never drain: read on, so that `from` still ends the relay.
    if ((to.destroyed || !to.writableNeedDrain) && !tap.backlogged) from.resume();
  };
  const tap = new MessageTap(io, resume, (error) => fail(error));
  const pass = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    // After a teardown nothing more goes out.
    if (!to.destroyed && !to.writableEnded) {
      io.onBytes(chunk.length);
      batch();
      to.write(chunk);
    }
    tap.push(chunk);
    if ((!to.destroyed && to.writableNeedDrain) || tap.backlogged) from.pause();
  };
  to.on('drain', resume);
  to.on('close', resume);
  try {
    pass(io.head);
    from.on('data', pass);
    // The upgraded origin socket was handed over paused (websocket.ts), and 'data' does not resume that.
    resume();
    await Promise.race([finished(from, { writable: false }), failure]);
    await Promise.race([tap.settled(), failure]);
    to.end();
  } finally {
    from.off('data', pass);
    to.off('drain', resume);
    to.off('close', resume);
    tap.close();
  }
}

/** A message whose frames are passing. */
interface Passing {
  readonly opcode: number;
  readonly compressed: boolean;
  readonly start: MessageStart;
}

/** Reads a direction's bytes beside the pipe and records each message as its last frame passes. */
class MessageTap {
  readonly #io: DirectionIo;
  readonly #parser: FrameParser;
  readonly #inflater = new MessageInflater();
  readonly #drained: () => void;
  readonly #fail: (error: unknown) => void;
  #message: Passing | undefined;
  /** Frames waiting behind a compressed one, each recorded in turn: the inflater goes message by message. */
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #backlog = 0;
  /** False once nothing more is read: the record is full and nobody observes, or a frame was too large. */
  #open = true;

  constructor(io: DirectionIo, drained: () => void, fail: (error: unknown) => void) {
    this.#io = io;
    this.#parser = new FrameParser(io.maxBuffer);
    this.#drained = drained;
    this.#fail = fail;
  }

  /** True while more compressed bytes wait for the inflater than the pipe may run ahead of it. */
  get backlogged(): boolean {
    return this.#backlog > INFLATE_BACKLOG;
  }

  /** Reads bytes that went on; a protocol error is reported through `fail`. */
  push(chunk: Buffer): void {
    if (!this.#open) return;
    try {
      for (const frame of this.#parser.push(chunk)) this.#frame(frame);
    } catch (error) {
      this.#stop();
      this.#fail(error);
      return;
    }
    if (this.#parser.oversized || (this.#io.observe === undefined && (this.#io.log?.room ?? 0) === 0)) this.#stop();
  }

  /** Resolves once every frame read so far is recorded. */
  settled(): Promise<void> {
    return this.#queue;
  }

  close(): void {
    this.#stop();
    this.#inflater.close();
  }

  #stop(): void {
    this.#open = false;
    this.#parser.rest();
  }

  #frame(frame: Frame): void {
    // Control frames (close, ping, pong) are not messages; they may come between a message's fragments (§5.4).
    if (frame.opcode >= Opcode.close) return;
    const first = frame.opcode !== Opcode.continuation;
    if (first && this.#message) throw new FrameError('a new message began before the previous one ended');
    if (!first && !this.#message) throw new FrameError('a continuation frame without a message');
    const compressed = first ? frame.rsv1 && this.#io.deflate !== undefined : (this.#message as Passing).compressed;
    if (first && frame.fin && !compressed && this.#queued === 0) {
      // The common case, a whole uncompressed message in one frame: recorded from its payload as it is.
      const wanted = wantedBytes(this.#io);
      const size = frame.payload.length;
      recordMessage(this.#io, typeOf(frame.opcode), size > wanted ? frame.payload.subarray(0, wanted) : frame.payload, size);
      return;
    }
    const message = first ? { opcode: frame.opcode, compressed, start: new MessageStart() } : (this.#message as Passing);
    this.#message = frame.fin ? undefined : message;
    if (!compressed && this.#queued === 0) {
      this.#take(message, frame.payload, frame.fin);
      return;
    }
    // In order behind the frames already waiting: the inflater's window goes message by message.
    const bytes = frame.payload.length;
    this.#queued += 1;
    this.#backlog += bytes;
    this.#queue = this.#queue.then(async () => {
      const plain = compressed ? await this.#inflater.inflate(frame.payload, frame.fin) : frame.payload;
      this.#take(message, plain, frame.fin);
      this.#queued -= 1;
      this.#backlog -= bytes;
      if (!this.backlogged) this.#drained();
    });
    this.#queue.catch(this.#fail);
  }

  #take(message: Passing, plain: Buffer, fin: boolean): void {
    message.start.add(plain, wantedBytes(this.#io));
    if (fin) recordMessage(this.#io, typeOf(message.opcode), message.start.bytes(), message.start.total);
  }
}

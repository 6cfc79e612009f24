import { Transform, type TransformCallback } from 'node:stream';

/**
 * A shared budget of bytes per second: each slice of bytes is given the moment it may go, so
 * several streams drawing on one budget (both bodies of a connection's flows) share its rate.
 */
export class ByteBudget {
  readonly bytesPerSecond: number;
  #readyAt = 0;

  constructor(bytesPerSecond: number) {
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Milliseconds to wait before `bytes` more may go, and books them. */
  book(bytes: number, now: number = performance.now()): number {
    const start = Math.max(now, this.#readyAt);
    this.#readyAt = start + (bytes / this.bytesPerSecond) * 1000;
    return start - now;
  }
}

// Slices of about 1/20 s of budget: the receiver sees bytes arrive steadily, not in bursts.
const SLICES_PER_SECOND = 20;

/**
 * A Transform that lets bytes through at its budget's rate: each chunk is cut into slices pushed
 * on a timer, and the next chunk is asked for only once the last slice went, so the writer feels
 * real backpressure (nothing piles up here). Timers are cleared on destroy and unref'd.
 */
export class RateMeter extends Transform {
  readonly #budget: ByteBudget;
  #timer: NodeJS.Timeout | undefined;

  constructor(budget: ByteBudget) {
    super();
    this.#budget = budget;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const slice = Math.max(1024, Math.floor(this.#budget.bytesPerSecond / SLICES_PER_SECOND));
    let offset = 0;
    const next = (): void => {
      this.#timer = undefined;
      if (offset >= chunk.length) {
        done();
        return;
      }
      const part = chunk.subarray(offset, offset + slice);
      offset += part.length;
      const wait = this.#budget.book(part.length);
      const send = (): void => {
        this.push(part);
        next();
      };
      if (wait < 1) send();
      else this.#timer = setTimeout(send, wait).unref();
    };
    next();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    callback(error);
  }
}

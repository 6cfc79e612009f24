import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

/**
 * How long a test waits for something it is sure will happen, unless the code under test is
 * broken. Generous, because the suites run in parallel on a busy machine: a deadline is there to
 * turn a hang into a clear failure, never to synchronise.
 */
export const WAIT_MS = 10_000;

/** Thrown when a wait passes its deadline; the message says what was awaited. */
export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`timed out after ${ms} ms waiting for ${what}`);
    this.name = 'DeadlineError';
  }
}

/**
 * Resolves or rejects as `promise` does, or rejects with a `DeadlineError` naming `what` once `ms`
 * have passed. `what` may be a function, evaluated only on timeout, to report the state then.
 */
export function within<T>(promise: Promise<T>, what: string | (() => string), ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(typeof what === 'string' ? what : what(), ms)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `events.once(emitter, event)` with a deadline. */
export function onceWithin(emitter: EventEmitter, event: string, what: string, ms = WAIT_MS): Promise<unknown[]> {
  const controller = new AbortController();
  return within(once(emitter, event, { signal: controller.signal }), what, ms).finally(() => controller.abort());
}

/**
 * Collects what a readable sends, as text, and lets a test wait (with a deadline) until a given
 * text has arrived: the way to see that data got through before its stream ended.
 */
export class TextReader {
  #seen = '';
  #ended = false;
  readonly #wakers = new Set<() => void>();

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#seen += chunk;
      this.#wake();
    });
    const end = (): void => {
      this.#ended = true;
      this.#wake();
    };
    stream.once('end', end);
    stream.once('close', end);
  }

  /** Everything received so far. */
  get text(): string {
    return this.#seen;
  }

  /**
   * Resolves with everything received once it includes `text`; rejects when the stream ends
   * without it, or after `ms`, saying what did arrive.
   */
  until(text: string, ms = WAIT_MS): Promise<string> {
    let check = (): void => undefined;
    const arrived = new Promise<string>((resolve, reject) => {
      check = (): void => {
        if (this.#seen.includes(text)) resolve(this.#seen);
        else if (this.#ended) reject(new Error(`the stream ended without ${JSON.stringify(text)}; it sent ${JSON.stringify(this.#seen)}`));
      };
    });
    this.#wakers.add(check);
    check();
    return within(arrived, () => `${JSON.stringify(text)}; so far received ${JSON.stringify(this.#seen)}`, ms).finally(() =>
      this.#wakers.delete(check),
    );
  }

  /** Resolves with everything received once the stream has ended; rejects after `ms`, saying what arrived. */
  ended(ms = WAIT_MS): Promise<string> {
    let check = (): void => undefined;
    const ended = new Promise<string>((resolve) => {
      check = (): void => {
        if (this.#ended) resolve(this.#seen);
      };
    });
    this.#wakers.add(check);
    check();
    return within(ended, () => `the end of the stream; so far received ${JSON.stringify(this.#seen)}`, ms).finally(() =>
      this.#wakers.delete(check),
    );
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }
}

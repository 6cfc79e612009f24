import { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';

interface Waiter {
  readonly predicate: (flow: Flow) => boolean;
  readonly resolve: (flow: Flow) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The most recent `keep` finished flows, oldest first: a ring, so memory stays bounded however
 * long the proxy runs (each flow holds at most the recorded body limit per body).
 */
export class FlowStore {
  readonly #keep: number;
  #flows: Flow[] = [];
  #pinned = new Set<number>();
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Recorded flows, oldest first. */
  get flows(): readonly Flow[] {
    return this.#flows.length > this.#keep ? this.#flows.slice(-this.#keep) : this.#flows;
  }

  // Keeps the last `keep` flows, and forgets the pins of those that left: a pin keeps a flow from
  // Clear, not past the ring.
  #trim(): void {
    this.#flows = this.#flows.slice(-this.#keep);
    if (this.#pinned.size === 0) return;
    const kept = new Set(this.#flows.map((flow) => flow.id));
    for (const id of this.#pinned) if (!kept.has(id)) this.#pinned.delete(id);
  }

  /** Records a finished flow and wakes whoever waits for one like it (or whose predicate throws on it). */
  add(flow: Flow): void {
    if (this.#keep > 0) {
      this.#flows.push(flow);
      // Trim in batches: one splice per keep/8 flows instead of a shift per flow.
      if (this.#flows.length > this.#keep + Math.ceil(this.#keep / 8)) this.#trim();
    }
    for (const waiter of this.#waiters) {
      // The predicate is the caller's code, run from a socket's close handler: a throw there would
      // be an uncaught exception ending the process, so it rejects that caller's wait instead.
      let matched: boolean;
      try {
        matched = waiter.predicate(flow);
      } catch (error) {
        this.#waiters.delete(waiter);
        waiter.reject(error);
        continue;
      }
      if (!matched) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(flow);
    }
  }

  /** Ids of the pinned flows: `clear` keeps them (the ring's `keep` limit still applies). */
  get pinned(): ReadonlySet<number> {
    return this.#pinned;
  }

  /** Pins (or unpins) a kept flow; false when no flow with that id is kept. */
  pin(id: number, pinned = true): boolean {
    if (!this.flows.some((flow) => flow.id === id)) return false;
    if (pinned) this.#pinned.add(id);
    else this.#pinned.delete(id);
    return true;
  }

  /** Forgets every recorded flow but the pinned ones. */
  clear(): void {
    this.#flows = this.flows.filter((flow) => this.#pinned.has(flow.id));
    this.#pinned = new Set(this.#flows.map((flow) => flow.id));
  }

  /** Rejects every pending wait (no flow can arrive any more); later waits see only the recorded flows. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters) {
      waiter.reject(new MitmError('wait_timeout', `the proxy closed before a flow matched (${this.flows.length} flows recorded)`));
    }
    this.#waiters.clear();
  }

  /**
   * Resolves with the first recorded flow matching `predicate`, looking at those already kept
   * first, then at each new one; rejects after `timeout` ms (default 5000) with a clear error,
   * when the proxy closes, or with whatever `predicate` throws.
   */
  waitFor(predicate: (flow: Flow) => boolean, options: { timeout?: number } = {}): Promise<Flow> {
    let found: Flow | undefined;
    try {
      found = this.flows.find(predicate);
    } catch (error) {
      return Promise.reject(error);
    }
    if (found) return Promise.resolve(found);
    if (this.#closed) {
      return Promise.reject(
        new MitmError('wait_timeout', `the proxy is closed and none of its ${this.flows.length} recorded flows matched`),
      );
    }
    const timeout = options.timeout ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new MitmError('wait_timeout', `no flow matched within ${timeout} ms (${this.flows.length} flows recorded)`));
      }, timeout);
      // The proxy's own sockets keep the process alive while it runs; a pending wait alone must not.
      timer.unref();
      const settle = (): void => clearTimeout(timer);
      const waiter: Waiter = {
        predicate,
        resolve: (flow) => {
          settle();
          resolve(flow);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

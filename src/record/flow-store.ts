import { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';

interface Waiter {
  readonly predicate: (flow: Flow) => boolean;
  readonly resolve: (flow: Flow) => void;
}

/**
 * The most recent `keep` finished flows, oldest first: a ring, so memory stays bounded however
 * long the proxy runs (each flow holds at most the recorded body limit per body).
 */
export class FlowStore {
  readonly #keep: number;
  #flows: Flow[] = [];
  readonly #waiters = new Set<Waiter>();

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Recorded flows, oldest first. */
  get flows(): readonly Flow[] {
    return this.#flows.length > this.#keep ? this.#flows.slice(-this.#keep) : this.#flows;
  }

  /** Records a finished flow and wakes whoever waits for one like it. */
  add(flow: Flow): void {
    if (this.#keep > 0) {
      this.#flows.push(flow);
      // Trim in batches: one splice per keep/8 flows instead of a shift per flow.
      if (this.#flows.length > this.#keep + Math.ceil(this.#keep / 8)) this.#flows = this.#flows.slice(-this.#keep);
    }
    for (const waiter of this.#waiters) {
      if (!waiter.predicate(flow)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(flow);
    }
  }

  /** Forgets every recorded flow. */
  clear(): void {
    this.#flows = [];
  }

  /**
   * Resolves with the first recorded flow matching `predicate`, looking at those already kept
   * first, then at each new one; rejects after `timeout` ms (default 5000) with a clear error.
   */
  waitFor(predicate: (flow: Flow) => boolean, options: { timeout?: number } = {}): Promise<Flow> {
    const found = this.flows.find(predicate);
    if (found) return Promise.resolve(found);
    const timeout = options.timeout ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new MitmError('wait_timeout', `no flow matched within ${timeout} ms (${this.flows.length} flows recorded)`));
      }, timeout);
      const waiter: Waiter = {
        predicate,
        resolve: (flow) => {
          clearTimeout(timer);
          resolve(flow);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

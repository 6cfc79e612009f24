import type { SourceListener } from './source.js';

/** A set of source listeners whose callbacks may throw without stopping the others. */
export class ListenerSet {
  readonly #listeners = new Set<SourceListener>();
  readonly #onFault: (error: unknown) => void;

  constructor(onFault: (error: unknown) => void = () => undefined) {
    this.#onFault = onFault;
  }

  /** Adds a listener; returns its removal. */
  add(listener: SourceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `call` on every listener, catching each one's throw. */
  each(call: (listener: SourceListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch (error) {
        this.#onFault(error);
      }
    }
  }

  /** Forgets every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}

import type { RunningProxy } from '../../proxy/proxy-handle.js';
import { writeHarFile } from '../../record/write-har.js';
import { printable } from './flow-log.js';
import { writeLine, type Io } from './io.js';

/**
 * `--har FILE` for a CLI command: writes the proxy's recorded flows on demand and on SIGUSR2,
 * one write at a time, so a late signal's write cannot land after (and undo) the final one.
 */
export class HarOutput {
  readonly #proxy: Pick<RunningProxy, 'har'>;
  readonly #file: string;
  readonly #io: Io;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(proxy: Pick<RunningProxy, 'har'>, file: string, io: Io) {
    this.#proxy = proxy;
    this.#file = file;
    this.#io = io;
  }

  /** Writes the HAR after any write in progress and prints `wrote N flows to FILE` on stderr; rejects with `har_write_failed`. */
  write(): Promise<number> {
    const done = this.#queue.then(async () => {
      const har = this.#proxy.har();
      await writeHarFile(this.#file, har);
      const count = har.log.entries.length;
      writeLine(this.#io.stderr, printable(`wrote ${count} ${count === 1 ? 'flow' : 'flows'} to ${this.#file}`));
      return count;
    });
    this.#queue = done.catch(() => undefined);
    return done;
  }

  /** Writes on every `signal` without stopping; a failed write is printed and the proxy runs on. Returns the unsubscribe function. */
  writeOnSignal(signal: NodeJS.Signals = 'SIGUSR2'): () => void {
    // Windows has no SIGUSR2; there the HAR is written at exit only.
    if (process.platform === 'win32') return () => undefined;
    const onSignal = (): void => {
      this.write().catch((error: unknown) => {
        writeLine(this.#io.stderr, `mitm: ${printable(error instanceof Error ? error.message : String(error))}`);
      });
    };
    process.on(signal, onSignal);
    return () => process.off(signal, onSignal);
  }
}

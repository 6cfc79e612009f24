import { MitmError } from '../../errors.js';
import type { Flow } from '../../flow/flow.js';
import { flowRows, type FlowRows } from './flow-rows.js';
import { reason } from './open-database.js';
import { type PackedRows, packRows } from './row-inserter.js';
import type { AppendExtra, StoreStats } from './types.js';
import { type BatchOutcome, WriteThread } from './write-thread.js';

/** How the writer batches. */
export interface WriterOptions {
  readonly bodyLimit: number;
  readonly maxSize: number | undefined;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueue: number;
  readonly onError: ((error: Error) => void) | undefined;
}

type Queued = { flow: Flow; extra: AppendExtra; rows: undefined } | { flow: undefined; extra: AppendExtra; rows: FlowRows };

type Counters = { -readonly [K in keyof StoreStats]: StoreStats[K] };

// Batches handed to the writer thread and not yet written, at most: past it, the next write waits,
// so a disk slower than the traffic costs latency, never unbounded memory.
const MAX_IN_FLIGHT = 4;

/**
 * Queues finished flows and writes them in one transaction per batch: when `batchSize` are queued
 * (on the next turn of the event loop), or `flushIntervalMs` after the first of a batch. A write
 * turns the batch into rows here and hands them to the store's writer thread (write-thread.ts),
 * which runs the SQL. `append` itself only pushes onto the queue, except when the queue holds
 * `maxQueue` flows: then it writes them there and then, waiting for the thread, so memory stays
 * bounded and no flow is dropped.
 */
export class StoreWriter {
  readonly #file: string;
  readonly #options: WriterOptions;
  readonly #thread: WriteThread;
  readonly #counters: Counters = {
    appended: 0,
    written: 0,
    queued: 0,
    batches: 0,
    syncFlushes: 0,
    failedFlows: 0,
    prunedFlows: 0,
    cutBodies: 0,
  };
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** The batch a `flush()` waits for: its failure is thrown there instead of going to `onError`. */
  #awaited: { seq: number; error: Error | undefined } | undefined;

  constructor(file: string, options: WriterOptions) {
    this.#file = file;
    this.#options = options;
    this.#thread = new WriteThread(file, options.maxSize, (outcome) => this.#settled(outcome));
  }

  /** Counters since the store was opened, once the batches handed to the writer thread are written. */
  get stats(): StoreStats {
    this.#thread.settle();
    return { ...this.#counters, queued: this.#queue.length };
  }

  /** Queues a finished flow; see the class comment for when it is written. */
  append(flow: Flow, extra: AppendExtra): void {
    this.#enqueue({ flow, extra, rows: undefined });
  }

  /** Queues a flow already turned into rows (an imported HAR entry). */
  appendRows(rows: FlowRows): void {
    this.#enqueue({ flow: undefined, extra: {}, rows });
  }

  #enqueue(item: Queued): void {
    this.#queue.push(item);
    this.#counters.appended += 1;
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#counters.syncFlushes += 1;
      this.#writeReporting(true);
    } else if (this.#queue.length >= this.#options.batchSize) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#writeReporting(false);
      }).unref();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#writeReporting(false);
      }, this.#options.flushIntervalMs).unref();
    }
  }

  /** Writes everything queued and waits until it is written; throws `store_failed` when that write fails (those flows are counted as failed). */
  flush(): void {
    this.#cancelTimers();
    const { seq, problem } = this.#write();
    this.#awaited = seq === undefined ? undefined : { seq, error: undefined };
    let failed: Error | undefined;
    try {
      this.#thread.settle();
      failed = this.#awaited?.error ?? problem;
    } finally {
      this.#awaited = undefined;
    }
    if (failed) throw failed;
  }

  /** Stops the timers; queued flows stay queued. */
  stop(): void {
    this.#cancelTimers();
  }

  /** Ends the writer thread (after `flush()`: what is still queued is not written). */
  close(): Promise<void> {
    this.#cancelTimers();
    return this.#thread.close();
  }

  #cancelTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /** A background write: its failure goes to `onError`, never up into the request that appended. */
  #writeReporting(wait: boolean): void {
    this.#cancelTimers();
    const { problem } = this.#write();
    if (problem) this.#options.onError?.(problem);
    if (!wait) return;
    try {
      this.#thread.settle();
    } catch (error) {
      this.#options.onError?.(error as Error);
    }
  }

  /**
   * Turns the queue into rows and hands them to the writer thread: the batch's seq (undefined when
   * there was nothing to write), and the flows that could not be turned into rows.
   */
  #write(): { seq: number | undefined; problem: MitmError | undefined } {
    if (this.#queue.length === 0) return { seq: undefined, problem: undefined };
    const batch = this.#queue;
    this.#queue = [];
    const rows: PackedRows[] = [];
    const problems: string[] = [];
    for (const { flow, extra, rows: given } of batch) {
      try {
        rows.push(packRows(given ?? flowRows(flow as Flow, extra, this.#options.bodyLimit)));
      } catch (error) {
        // One flow that cannot be turned into rows must not cost the rest of its batch.
        this.#counters.failedFlows += 1;
        problems.push(`flow ${flow?.id ?? '?'}: ${reason(error)}`);
      }
    }
    if (this.#thread.pending >= MAX_IN_FLIGHT) this.#thread.settle();
    return {
      seq: rows.length > 0 ? this.#thread.post(rows) : undefined,
      problem:
        problems.length === 0
          ? undefined
          : new MitmError('store_failed', `cannot store ${problems.length} flows in ${this.#file}: ${problems.slice(0, 3).join('; ')}`),
    };
  }

  /** Counts what the writer thread did with one batch, and reports its failure. */
  #settled(outcome: BatchOutcome): void {
    const counters = this.#counters;
    counters.written += outcome.written;
    counters.failedFlows += outcome.failed;
    counters.cutBodies += outcome.cutBodies;
    counters.prunedFlows += outcome.prunedFlows;
    if (outcome.error === undefined) counters.batches += 1;
    const error =
      outcome.error !== undefined
        ? new MitmError('store_failed', `cannot write ${outcome.failed} flows to the store ${this.#file}: ${outcome.error}`)
        : outcome.pruneError !== undefined
          ? new MitmError('store_failed', `cannot prune the store ${this.#file} to ${this.#options.maxSize} bytes: ${outcome.pruneError}`)
          : undefined;
    if (error === undefined) return;
    if (this.#awaited?.seq === outcome.seq) this.#awaited.error = error;
    else this.#options.onError?.(error);
  }
}

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

// Batches committed to the writer thread and not yet written, at most: past it, the next commit
// waits, so a disk slower than the traffic costs latency, never unbounded memory. The rows of the
// next batch go over ahead of its commit, HAND_OVER_EVERY flows at a time (at most batchSize).
const MAX_IN_FLIGHT = 4;

// Queued flows are turned into rows and handed to the writer thread in groups of this many, ahead
// of their batch's commit: a flow kept until its batch is written (up to 200 flows or 50 ms) outlived
// the young generation and was copied and promoted by the garbage collector (docs/performance.md).
const HAND_OVER_EVERY = 16;

/**
 * Queues finished flows and writes them in one transaction per batch: when `batchSize` are queued
 * (on the next turn of the event loop), or `flushIntervalMs` after the first of a batch. Queued
 * flows are turned into rows here and handed to the store's writer thread (write-thread.ts) every
 * `HAND_OVER_EVERY` flows, on the next turn, and at the batch's write; the thread runs the SQL
 * when the batch is written. `append` itself only pushes onto the queue, except when the batch
 * holds `maxQueue` flows: then it writes them there and then, waiting for the thread, so memory
 * stays bounded and no flow is dropped.
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
  /** Flows not yet turned into rows. */
  #queue: Queued[] = [];
  /** Flows of the batch not yet written: queued, or handed to the thread as rows. */
  #batched = 0;
  /** Rows handed to the thread for the batch not yet written. */
  #handed = 0;
  /** Flows of the batch that could not be turned into rows, reported when it is written. */
  #problems: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #handOverSoon: NodeJS.Immediate | undefined;
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
    return { ...this.#counters, queued: this.#batched };
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
    this.#batched += 1;
    this.#counters.appended += 1;
    if (this.#batched >= this.#options.maxQueue) {
      this.#counters.syncFlushes += 1;
      this.#writeReporting(true);
    } else if (this.#batched >= this.#options.batchSize) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#writeReporting(false);
      }).unref();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#writeReporting(false);
      }, this.#options.flushIntervalMs).unref();
      if (this.#queue.length >= HAND_OVER_EVERY) {
        this.#handOverSoon ??= setImmediate(() => {
          this.#handOverSoon = undefined;
          this.#handOver();
        }).unref();
      }
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
    if (this.#handOverSoon) clearImmediate(this.#handOverSoon);
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#handOverSoon = undefined;
  }

  /**
   * A background write: its failure goes to `onError`, never up into the request that appended,
   * nor out of the timer that called it (a wait for the thread can throw).
   */
  #writeReporting(wait: boolean): void {
    this.#cancelTimers();
    try {
      const { problem } = this.#write();
      if (problem) this.#options.onError?.(problem);
      if (wait) this.#thread.settle();
    } catch (error) {
      this.#options.onError?.(error as Error);
    }
  }

  /** Turns the queued flows into rows and hands them to the writer thread, for the batch's commit. */
  #handOver(): void {
    if (this.#queue.length === 0) return;
    const queued = this.#queue;
    this.#queue = [];
    const rows: PackedRows[] = [];
    for (const { flow, extra, rows: given } of queued) {
      try {
        rows.push(packRows(given ?? flowRows(flow as Flow, extra, this.#options.bodyLimit)));
      } catch (error) {
        // One flow that cannot be turned into rows must not cost the rest of its batch.
        this.#counters.failedFlows += 1;
        this.#problems.push(`flow ${flow?.id ?? '?'}: ${reason(error)}`);
      }
    }
    if (rows.length === 0) return;
    this.#thread.add(rows);
    this.#handed += rows.length;
  }

  /**
   * Hands what is left of the batch to the writer thread and commits it: the batch's seq
   * (undefined when there was nothing to write), and the flows that could not be turned into rows.
   */
  #write(): { seq: number | undefined; problem: MitmError | undefined } {
    // Waited for before the last rows go over, so a wait that throws leaves them queued here.
    if (this.#thread.pending >= MAX_IN_FLIGHT) this.#thread.settle();
    this.#handOver();
    const [handed, problems] = [this.#handed, this.#problems];
    [this.#batched, this.#handed, this.#problems] = [0, 0, []];
    return {
      seq: handed > 0 ? this.#thread.commit(handed) : undefined,
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

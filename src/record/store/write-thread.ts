import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { MitmError } from '../../errors.js';
import { FROM_SOURCE, ownModule } from '../../package-files.js';
import { processFlags } from '../../v8-flags.js';
import type { PackedRows } from './row-inserter.js';

/** What the writer thread starts with (write-worker.ts), besides its end of the channel. */
export interface WriterThreadData {
  readonly file: string;
  readonly maxSize: number | undefined;
  /** Two Int32s: the seq of the last commit the thread has answered; 1 once it cannot go on (its module failed to load, or it threw). */
  readonly done: SharedArrayBuffer;
  /**
   * The V8 flags this process set for itself (../../v8-flags.ts), which the thread sets again:
   * its heap's set-up (and tsx's loader thread, from the sources) reset some of them.
   */
  readonly flags: readonly string[];
}

/**
 * From the proxy's thread to the writer thread: rows as they are made, then a commit that writes
 * every row sent since the last one in one transaction.
 */
export type ThreadMessage =
  | { readonly type: 'rows'; readonly rows: readonly PackedRows[] }
  | { readonly type: 'commit'; readonly seq: number }
  | { readonly type: 'close' };

/** The writer thread's answer to one batch. */
export interface BatchOutcome {
  readonly seq: number;
  readonly written: number;
  readonly failed: number;
  readonly cutBodies: number;
  readonly prunedFlows: number;
  /** Why the batch's transaction failed (none of it was written). */
  readonly error?: string;
  /** Why pruning after it failed (the batch itself was written). */
  readonly pruneError?: string;
}

/**
 * What the thread's bootstrap sends when the thread cannot go on: its module cannot be loaded (it
 * throws at import, or an import of its fails), or it threw later; `error` says which.
 */
interface ThreadFailure {
  readonly type: 'failed';
  readonly error: string;
}

// A wait longer than this means the thread is gone (or the disk hangs): the caller gets an error.
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * The SQLite writing of a store, on a worker thread with its own connection: the proxy's thread
 * only turns flows into rows and posts them, so a batch's INSERTs and COMMIT (most of a stored
 * flow's cost, docs/performance.md) never hold up the requests in flight. Answers to commits
 * arrive on `onOutcome`, in order; `settle` blocks until every commit is answered, for `flush()`
 * and reads that must see every appended flow.
 */
export class WriteThread {
  readonly #file: string;
  readonly #maxSize: number | undefined;
  // [0]: the last seq answered; [1]: 1 once the thread cannot go on (startWorker's bootstrap).
  readonly #done = new Int32Array(new SharedArrayBuffer(8));
  readonly #onOutcome: (outcome: BatchOutcome) => void;
  // Started with the first batch: a store that never writes (or a proxy that records nothing yet)
  // pays no thread start-up (a new V8 isolate and the SQLite driver, over a second under load).
  #thread: { readonly worker: Worker; readonly port: MessagePort } | undefined;
  #posted = 0;
  // The flows in each commit posted and not yet answered, by seq: a thread that fails to load answers none.
  readonly #unanswered = new Map<number, number>();
  #gone: string | undefined;

  constructor(file: string, maxSize: number | undefined, onOutcome: (outcome: BatchOutcome) => void) {
    this.#file = file;
    this.#maxSize = maxSize;
    this.#onOutcome = onOutcome;
  }

  #start(): { readonly worker: Worker; readonly port: MessagePort } {
    const { port1, port2 } = new MessageChannel();
    const data: WriterThreadData & { port: MessagePort } = {
      file: this.#file,
      maxSize: this.#maxSize,
      done: this.#done.buffer as SharedArrayBuffer,
      flags: processFlags(),
      port: port2,
    };
    const worker = startWorker(data, [port2]);
    // Neither keeps a process alive that forgot to close its store (what is queued is then lost, as on a kill).
    worker.unref();
    port1.unref();
    port1.on('message', (message: BatchOutcome | ThreadFailure) => this.#received(message));
    worker.on('error', (error) => this.#goneWith(error.message));
    worker.on('exit', () => this.#goneWith('it exited'));
    return { worker, port: port1 };
  }

  /** Commits posted and not yet answered. */
  get pending(): number {
    return this.#posted - Atomics.load(this.#done, 0);
  }

  /**
   * Hands rows to the thread, to be written by the next `commit`. Rows go over as they are made,
   * in small groups, so the flows they came from die young on this thread instead of waiting for
   * the batch in its heap (docs/performance.md, round five of the store).
   */
  add(rows: readonly PackedRows[]): void {
    this.#running()?.port.postMessage({ type: 'rows', rows } satisfies ThreadMessage);
  }

  /**
   * Asks the thread to write every row added since the last commit (`flows` of them) in one
   * transaction; returns its seq (as in its outcome).
   */
  commit(flows: number): number {
    const seq = ++this.#posted;
    const thread = this.#running();
    if (thread === undefined) this.#fail(seq, flows);
    else {
      this.#unanswered.set(seq, flows);
      thread.port.postMessage({ type: 'commit', seq } satisfies ThreadMessage);
    }
    return seq;
  }

  /** The thread, started on first use; undefined once it is gone (or its module is missing). */
  #running(): { readonly worker: Worker; readonly port: MessagePort } | undefined {
    if (this.#thread === undefined) this.#gone ??= missingModule();
    if (this.#gone !== undefined) return undefined;
    this.#thread ??= this.#start();
    return this.#thread;
  }

  /** Answers commit `seq` of `flows` flows as failed, with why the thread is gone. */
  #fail(seq: number, flows: number): void {
    Atomics.store(this.#done, 0, seq);
    this.#onOutcome({ seq, written: 0, failed: flows, cutBodies: 0, prunedFlows: 0, error: `its writer thread failed: ${this.#gone}` });
  }

  /** One message from the thread: a commit's outcome, or its failure (every commit then fails). */
  #received(message: BatchOutcome | ThreadFailure): void {
    if (!('type' in message)) {
      this.#unanswered.delete(message.seq);
      this.#onOutcome(message);
      return;
    }
    this.#goneWith(message.error);
  }

  /** The thread is gone, for `why` (the first reason given stays): every commit still unanswered fails. */
  #goneWith(why: string): void {
    this.#gone ??= why;
    for (const [seq, flows] of this.#unanswered) this.#fail(seq, flows);
    this.#unanswered.clear();
  }

  /** Blocks this thread until every commit is answered, and delivers the answers not yet delivered. */
  settle(): void {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (let done = Atomics.load(this.#done, 0); done < this.#posted; done = Atomics.load(this.#done, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new MitmError('store_failed', `the store ${this.#file} did not finish writing within ${SETTLE_TIMEOUT_MS / 1000} s`);
      }
      if (Atomics.load(this.#done, 1) === 1) {
        // A thread that cannot go on never answers: its failure, posted before this flag, is read
        // now, and every commit still unanswered fails (none is left for the loop to wait on).
        this.#receiveWaiting();
        this.#goneWith('it stopped');
      } else Atomics.wait(this.#done, 0, done, left);
    }
    this.#receiveWaiting();
  }

  /** Delivers the thread's messages already sent and not yet delivered. */
  #receiveWaiting(): void {
    const port = this.#thread?.port;
    if (port === undefined) return;
    for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) {
      this.#received(received.message as BatchOutcome | ThreadFailure);
    }
  }

  /** Closes the thread's connection and waits for it to end; settle first, or unanswered batches are lost. */
  async close(): Promise<void> {
    const thread = this.#thread;
    if (thread === undefined || this.#gone !== undefined) return;
    const exited = once(thread.worker, 'exit');
    // Held open until the thread has closed its connection, so the store's -wal is cleaned up.
    thread.worker.ref();
    thread.port.postMessage({ type: 'close' } satisfies ThreadMessage);
    await exited;
    thread.port.close();
  }
}

/**
 * Why the writer thread cannot start because its module is not there (an incomplete build or
 * install); undefined when it is. A thread that cannot load its module reports so only on its
 * 'error' event, which never arrives while settle() blocks: every flush would wait the whole
 * SETTLE_TIMEOUT_MS first.
 */
function missingModule(): string | undefined {
  const path = fileURLToPath(writerModule());
  return existsSync(path) ? undefined : `its module ${path} is missing (an incomplete build or install: run npm run build)`;
}

function writerModule(): URL {
  return ownModule('record/store/write-worker');
}

/**
 * Starts write-worker.js through a bootstrap; from the TypeScript sources (tests, tsx) it registers
 * tsx's loader first. A module that throws as it loads (a broken build or install, a dependency
 * that fails), or a thread that throws later, is reported on the port and flagged in the shared
 * state, and the thread ends: its 'error' event would reach the proxy's thread only after a
 * blocked settle() had waited out SETTLE_TIMEOUT_MS.
 */
function startWorker(workerData: WriterThreadData & { port: MessagePort }, transferList: MessagePort[]): Worker {
  const entry = JSON.stringify(writerModule().href);
  const load = FROM_SOURCE ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })` : `import(${entry})`;
  const code = `const { workerData } = require('node:worker_threads');
  const fail = (what, error) => {
    workerData.port.postMessage({ type: 'failed', error: what + String(error && error.message ? error.message : error) });
    const state = new Int32Array(workerData.done);
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 0);
  };
  process.on('uncaughtException', (error) => {
    fail('it failed: ', error);
    process.exit(1);
  });
  ${load}.catch((error) => fail('its module failed to load: ', error));`;
  return new Worker(code, { eval: true, workerData, transferList });
}

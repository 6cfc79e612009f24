// The store's writer thread (write-thread.ts starts it): its own SQLite connection to the store
// file, which the proxy's thread opened and migrated already. It keeps the rows it is sent until
// a commit, inserts them in one transaction, prunes, and answers on its port before bumping the
// shared `done` counter, so a waiting `flush()` finds the answer there when it wakes.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { type MessagePort, workerData } from 'node:worker_threads';
import { type Database, loadDriver } from './driver.js';
import { reason } from './open-database.js';
import { pruneToSize } from './prune.js';
import { type PackedRows, rowInserter } from './row-inserter.js';
import type { BatchOutcome, ThreadMessage, WriterThreadData } from './write-thread.js';

const { file, maxSize, port, done, flags } = workerData as WriterThreadData & { port: MessagePort };
const counter = new Int32Array(done);
// Set up, this thread's heap reset V8 flags the process had set for itself (write-thread.ts).
for (const flag of flags) setFlagsFromString(flag);

/** Writes one batch in one transaction, then prunes: what happened, as the proxy's thread counts it. */
function writer(db: Database): (seq: number, batch: readonly PackedRows[]) => BatchOutcome {
  const insert = rowInserter(db);
  const writeBatch = db.transaction((batch: readonly PackedRows[]) => {
    let cutBodies = 0;
    for (const rows of batch) cutBodies += insert(rows);
    return cutBodies;
  });
  return (seq, batch) => {
    let cutBodies: number;
    try {
      cutBodies = writeBatch(batch);
    } catch (error) {
      return { seq, written: 0, failed: batch.length, cutBodies: 0, prunedFlows: 0, error: reason(error) };
    }
    if (maxSize === undefined) return { seq, written: batch.length, failed: 0, cutBodies, prunedFlows: 0 };
    try {
      return { seq, written: batch.length, failed: 0, cutBodies, prunedFlows: pruneToSize(db, maxSize) };
    } catch (error) {
      return { seq, written: batch.length, failed: 0, cutBodies, prunedFlows: 0, pruneError: reason(error) };
    }
  };
}

// The thread's nice value: the proxy's own thread gets the CPU first whenever both want it (on
// one core, each request in flight waited behind a batch's SQL), and the thread writes in the
// proxy's idle time. Not the lowest (19): while the proxy waits for a write (a full queue, a
// read, close), the thread must not starve behind the machine's other work. docs/store.md.
const WRITER_NICE = 10;

/**
 * Lowers this thread's scheduling priority (and only this thread's: on Linux, setpriority on a
 * thread id applies to that thread); where that is not possible, it runs at the proxy's.
 */
function yieldToProxy(): void {
  try {
    // "PID/task/TID", read on this thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, WRITER_NICE);
  } catch {
    // Not Linux, or not allowed: the SQL shares the CPU with the proxy as any thread would.
  }
}

function answer(outcome: BatchOutcome): void {
  port.postMessage(outcome);
  Atomics.store(counter, 0, outcome.seq);
  Atomics.notify(counter, 0);
}

yieldToProxy();
let db: Database | undefined;
let write: (seq: number, batch: readonly PackedRows[]) => BatchOutcome;
try {
  const Driver = await loadDriver();
  db = new Driver(file, { timeout: 5000 });
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  write = writer(db);
} catch (error) {
  // The file could not be opened here: every batch fails with that reason, none is waited on forever.
  const why = `the writer thread cannot open it: ${reason(error)}`;
  write = (seq, batch) => ({ seq, written: 0, failed: batch.length, cutBodies: 0, prunedFlows: 0, error: why });
}
// Rows sent since the last commit.
let pending: PackedRows[] = [];
port.on('message', (message: ThreadMessage) => {
  if (message.type === 'rows') {
    for (const rows of message.rows) pending.push(rows);
  } else if (message.type === 'commit') {
    const batch = pending;
    pending = [];
    answer(write(message.seq, batch));
  } else {
    db?.close();
    port.close();
  }
});

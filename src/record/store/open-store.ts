import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MitmError } from '../../errors.js';
import type { Flow } from '../../flow/flow.js';
import { loadDriver, type Database } from './driver.js';
import { openDatabase, reason } from './open-database.js';
import { StoreReader } from './reader.js';
import type { AppendExtra, QueryOptions, StoredFlow, StoreOptions, StoreStats } from './types.js';
import { StoreWriter } from './writer.js';
import type { FlowRows } from './flow-rows.js';
import { whereFilter } from './where-filter.js';

/** Defaults of `StoreOptions` (docs/store.md). */
export const STORE_DEFAULTS = { storeBodyLimit: 8 * 2 ** 20, batchSize: 200, flushIntervalMs: 50, maxQueue: 2000 } as const;

/** A session on disk: finished flows go in with `append`, and come back out with `query` and `get`. */
export interface SessionStore {
  /** The absolute path of the store file. */
  readonly file: string;
  /** Queues a finished flow (call it from onFlowEnd); never blocks on the disk unless the queue is full. */
  append(flow: Flow, extra?: AppendExtra): void;
  /** Queues a flow already turned into rows, e.g. an imported HAR entry (`importHar`). */
  appendRows(rows: FlowRows): void;
  /** Writes everything queued now. */
  flush(): Promise<void>;
  /** Flows matching `where`, in append order (or reversed); queued flows are written first. */
  query(options?: QueryOptions): StoredFlow[];
  /** Flows matching a filter (docs/filters.md); throws FilterError when it does not parse. */
  query(filter: string, options?: Omit<QueryOptions, 'where'>): StoredFlow[];
  /** One flow by its store id. */
  get(id: number): StoredFlow | undefined;
  /** How many flows the store holds. */
  count(): number;
  /** Counters since opening. */
  stats(): StoreStats;
  /** Writes what is queued and closes the file; later calls do nothing. */
  close(): Promise<void>;
}

/**
 * Opens the store at `file`, creating it when missing, migrating an older schema. Fails with
 * `store_unavailable` (no SQLite driver), `store_invalid` (not a store, a newer schema) or
 * `store_failed` (a folder, no such folder, no permission), each naming the file.
 */
export async function openStore(file: string, options: StoreOptions = {}): Promise<SessionStore> {
  const Driver = await loadDriver();
  const path = resolve(file);
  const readonly = options.readonly ?? false;
  const db = await openDatabase(Driver, path, readonly);
  const writer = readonly
    ? undefined
    : new StoreWriter(path, {
        bodyLimit: positive(options.storeBodyLimit, STORE_DEFAULTS.storeBodyLimit, 'storeBodyLimit', 0),
        maxSize: options.maxSize === undefined ? undefined : positive(options.maxSize, 0, 'maxSize', 1),
        batchSize: positive(options.batchSize, STORE_DEFAULTS.batchSize, 'batchSize', 1),
        flushIntervalMs: positive(options.flushIntervalMs, STORE_DEFAULTS.flushIntervalMs, 'flushIntervalMs', 0),
        maxQueue: positive(options.maxQueue, STORE_DEFAULTS.maxQueue, 'maxQueue', 1),
        onError: options.onError,
      });
  const reader = new StoreReader(db);
  const count = db.prepare<[], number>('SELECT count(*) FROM flows').pluck();
  let closed = false;
  const open = (what: string): Database => {
    if (closed) throw new MitmError('store_failed', `cannot ${what}: the store ${path} is closed`);
    return db;
  };
  const reading = <T>(what: string, read: () => T): T => {
    open(what);
    writer?.flush();
    try {
      return read();
    } catch (error) {
      throw new MitmError('store_failed', `cannot ${what} the store ${path}: ${reason(error)}`, { cause: error });
    }
  };
  return {
    file: path,
    append(flow, extra = {}) {
      open('append a flow to');
      if (!writer) throw new MitmError('store_failed', `cannot append a flow: the store ${path} was opened read-only`);
      writer.append(flow, extra);
    },
    appendRows(rows) {
      open('append a flow to');
      if (!writer) throw new MitmError('store_failed', `cannot append a flow: the store ${path} was opened read-only`);
      writer.appendRows(rows);
    },
    async flush() {
      open('flush');
      writer?.flush();
    },
    query: (filter?: QueryOptions | string, queryOptions?: Omit<QueryOptions, 'where'>) => {
      // Compiled before reading, so a bad filter throws its FilterError, not store_failed.
      const options = typeof filter === 'string' ? { ...queryOptions, where: whereFilter(filter) } : filter;
      return reading('query', () => reader.query(options));
    },
    get: (id) => reading('read', () => reader.get(id)),
    count: () => reading('count the flows of', () => count.get() ?? 0),
    stats: () =>
      writer?.stats ?? { appended: 0, written: 0, queued: 0, batches: 0, syncFlushes: 0, failedFlows: 0, prunedFlows: 0, cutBodies: 0 },
    async close() {
      if (closed) return;
      closed = true;
      writer?.stop();
      try {
        writer?.flush();
      } finally {
        // The writer thread's connection first: the last one to close cleans up the -wal file.
        await writer?.close();
        db.close();
      }
    },
  };
}

function positive(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min)
    throw new MitmError('config_invalid', `store option ${name} must be a number ≥ ${min}, got ${value}`);
  return value;
}

/** The bytes a store takes on disk: the file and its `-wal` (writes not yet copied into it). */
export function storeFileBytes(file: string): number {
  let bytes = 0;
  for (const path of [file, `${file}-wal`]) {
    try {
      bytes += statSync(path).size;
    } catch {
      // No WAL file: nothing is being written.
    }
  }
  return bytes;
}

import { MitmError } from '../../errors.js';
import type { Flow } from '../../flow/flow.js';
import type { Database } from './driver.js';
import { flowRows, type FlowRowData, type FlowRows } from './flow-rows.js';
import { reason } from './open-database.js';
import { pruneToSize } from './prune.js';
import type { AppendExtra, StoreStats } from './types.js';

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

/**
 * Queues finished flows and writes them in one transaction per batch: when `batchSize` are queued
 * (on the next turn of the event loop), or `flushIntervalMs` after the first of a batch. `append`
 * itself only pushes onto the queue, except when the queue holds `maxQueue` flows: then it writes
 * them there and then, so memory stays bounded and no flow is dropped.
 */
export class StoreWriter {
  readonly #db: Database;
  readonly #file: string;
  readonly #options: WriterOptions;
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
  readonly #insert: (rows: FlowRows) => void;

  constructor(db: Database, file: string, options: WriterOptions) {
    this.#db = db;
    this.#file = file;
    this.#options = options;
    const flow = db.prepare(
      `INSERT INTO flows (${FLOW_COLUMNS.join(', ')}) VALUES (${FLOW_COLUMNS.map((column) => `@${column}`).join(', ')})`,
    );
    const body = db.prepare(
      'INSERT INTO bodies (flow_id, side, raw, content_encoding, text, cut, full_length) VALUES (@flow_id, @side, @raw, @content_encoding, @text, @cut, @full_length)',
    );
    const message = db.prepare(
      'INSERT INTO ws_messages (flow_id, seq, direction, time, type, data, size, cut) VALUES (@flow_id, @seq, @direction, @time, @type, @data, @size, @cut)',
    );
    const event = db.prepare(
      'INSERT INTO sse_events (flow_id, seq, event, data, last_id, retry) VALUES (@flow_id, @seq, @event, @data, @last_id, @retry)',
    );
    this.#insert = (rows) => {
      const flowId = flow.run(rows.flow).lastInsertRowid;
      for (const row of rows.bodies) {
        body.run({ flow_id: flowId, ...row });
        if (row.cut) this.#counters.cutBodies += 1;
      }
      for (const row of rows.messages) message.run({ flow_id: flowId, ...row });
      for (const row of rows.events) event.run({ flow_id: flowId, ...row });
    };
  }

  /** Counters since the store was opened. */
  get stats(): StoreStats {
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
      this.#writeReporting();
    } else if (this.#queue.length >= this.#options.batchSize) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#writeReporting();
      }).unref();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#writeReporting();
      }, this.#options.flushIntervalMs).unref();
    }
  }

  /** Writes everything queued now; throws `store_failed` when the write fails (those flows are counted as failed). */
  flush(): void {
    this.#cancelTimers();
    this.#write();
  }

  /** Stops the timers; queued flows stay queued. */
  stop(): void {
    this.#cancelTimers();
  }

  #cancelTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /** A background write: its failure goes to `onError`, never up into the request that appended. */
  #writeReporting(): void {
    this.#cancelTimers();
    try {
      this.#write();
    } catch (error) {
      this.#options.onError?.(error as Error);
    }
  }

  #write(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    const problems: string[] = [];
    try {
      this.#db.transaction(() => {
        for (const { flow, extra, rows: given } of batch) {
          let rows: FlowRows;
          try {
            rows = given ?? flowRows(flow as Flow, extra, this.#options.bodyLimit);
          } catch (error) {
            // One flow that cannot be turned into rows must not cost the rest of its batch.
            this.#counters.failedFlows += 1;
            problems.push(`flow ${flow?.id ?? '?'}: ${reason(error)}`);
            continue;
          }
          this.#insert(rows);
          this.#counters.written += 1;
        }
      })();
      this.#counters.batches += 1;
    } catch (error) {
      this.#counters.failedFlows += batch.length;
      throw new MitmError('store_failed', `cannot write ${batch.length} flows to the store ${this.#file}: ${reason(error)}`, {
        cause: error,
      });
    }
    if (this.#options.maxSize !== undefined) {
      try {
        this.#counters.prunedFlows += pruneToSize(this.#db, this.#options.maxSize);
      } catch (error) {
        throw new MitmError('store_failed', `cannot prune the store ${this.#file} to ${this.#options.maxSize} bytes: ${reason(error)}`, {
          cause: error,
        });
      }
    }
    if (problems.length > 0) {
      throw new MitmError('store_failed', `cannot store ${problems.length} flows in ${this.#file}: ${problems.slice(0, 3).join('; ')}`);
    }
  }
}

const FLOW_COLUMNS = [
  'proxy_flow_id',
  'started_at',
  'method',
  'url',
  'host',
  'path',
  'status',
  'status_message',
  'content_type',
  'request_http_version',
  'response_http_version',
  'request_headers',
  'response_headers',
  'request_size',
  'response_size',
  'duration_ms',
  'timings',
  'error_code',
  'error_message',
  'incomplete',
  'synthetic',
  'tags',
  'mode',
  'user',
  'client_address',
  'client_port',
  'connection_id',
  'server_address',
  'server_port',
  'client_tls',
  'origin_tls',
  'tls_sni',
  'origin_cert_issuer',
  'origin_cert_sha256',
  'is_websocket',
  'is_sse',
  'ws_omitted',
] as const satisfies readonly (keyof FlowRowData)[];

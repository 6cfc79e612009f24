import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { MitmError } from '../../errors.js';
import { EmptyStoreError } from './open-database.js';
import { openStore, type SessionStore } from './open-store.js';
import type { FlowRow, StoredFlow } from './types.js';

/** The fallback poll of a follower, in ms: fs.watch misses events on some file systems (NFS, some container mounts). */
export const FOLLOW_POLL_MS = 1000;

/** Options of `followStore`. */
export interface FollowOptions {
  /** Flows with a store id above this are new; default `lastStoredId(store)`, so only flows committed from now on. */
  readonly after?: number;
  /** Keeps only the rows it returns true for (e.g. `whereFilter(text)`); body texts are read only when asked. */
  readonly where?: ((row: FlowRow) => boolean) | undefined;
  /** Load bodies and messages of the new flows (default false: heads only). */
  readonly bodies?: boolean;
  /** The fallback poll interval in ms (default FOLLOW_POLL_MS). */
  readonly pollMs?: number;
  /** Gets each batch of new matching flows, oldest first. */
  readonly onFlows: (flows: StoredFlow[]) => void;
  /** A read that failed, or an onFlows that threw; the follower goes on. */
  readonly onError?: (error: unknown) => void;
}

/** A running follower; `close()` it, since its file watch keeps the process alive. */
export interface StoreFollower {
  /** The highest store id looked at so far. */
  readonly lastId: number;
  /** Reads what was committed since the last look, now, and hands the matching flows to onFlows. */
  poll(): void;
  /** Stops watching and polling; the store stays open. */
  close(): void;
}

/** The store id of the newest flow, 0 for none. */
export function lastStoredId(store: SessionStore): number {
  return store.query({ order: 'desc', limit: 1, bodies: false })[0]?.id ?? 0;
}

/**
 * Follows a store that another process (a proxy with `--store`) writes: new rows are those with an
 * id above the last one seen (ids grow in commit order). It wakes when the store's files change
 * (a watch on their folder, since the `-wal` file comes and goes with the writer) and, in case a
 * change event is missed, on an unref'd poll. Reading is synchronous and sees committed batches only.
 */
export function followStore(store: SessionStore, options: FollowOptions): StoreFollower {
  let lastId = options.after ?? lastStoredId(store);
  let closed = false;
  let scheduled = false;
  const report = (error: unknown): void => {
    try {
      options.onError?.(error);
    } catch {
      // A reporter that throws has nowhere else to report to.
    }
  };
  const bodies = options.bodies ?? false;
  // A burst read in pages, so memory holds one page of flows (and bodies) at a time, not the burst.
  const page = bodies ? 16 : 512;
  const poll = (): void => {
    scheduled = false;
    for (let full = true; full && !closed; ) {
      let flows: StoredFlow[];
      try {
        flows = store.query({
          after: lastId,
          bodies,
          limit: page,
          // Every row scanned moves the cursor on, matching or not; the scan stops at the page's last match.
          where: (row) => {
            if (row.id > lastId) lastId = row.id;
            return options.where === undefined || options.where(row);
          },
        });
      } catch (error) {
        report(error);
        return;
      }
      full = flows.length === page;
      if (flows.length === 0) return;
      try {
        options.onFlows(flows);
      } catch (error) {
        report(error);
      }
    }
  };
  const schedule = (): void => {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(poll);
  };
  const watcher = watchStoreFiles(store.file, schedule, report);
  const timer = setInterval(schedule, options.pollMs ?? FOLLOW_POLL_MS);
  // Unref'd beside a watch; without one (a watch limit reached) the poll is what keeps a follower going.
  if (watcher.watching) timer.unref();
  return {
    get lastId() {
      return lastId;
    },
    poll,
    close() {
      closed = true;
      clearInterval(timer);
      watcher.stop();
    },
  };
}

/** Options of `openStoreWhenReady`. */
export interface WaitOptions {
  /** Called once when the file is not a store yet and waiting begins. */
  readonly onWaiting?: () => void;
  /** Stops waiting; the promise then resolves undefined. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/**
 * Opens `file` read-only once a proxy has created it: at once when it is a store, else when it
 * appears (a missing or still empty file is waited for, woken by a watch on its folder and an
 * unref'd poll). Anything else fails at once, as `openStore` does: a missing folder, a file that
 * is not a store, a newer schema, no SQLite driver. Resolves undefined when `signal` aborts.
 */
export async function openStoreWhenReady(file: string, options: WaitOptions = {}): Promise<SessionStore | undefined> {
  const path = resolve(file);
  const folder = await stat(dirname(path)).catch(() => undefined);
  if (!folder?.isDirectory())
    throw new MitmError('store_failed', `cannot follow the store ${path}: the folder ${dirname(path)} does not exist`);
  const attempt = async (): Promise<SessionStore | undefined> => {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    // An empty file is one the writer has just created; SQLite would read it as an empty database.
    if (info instanceof Error ? info.code === 'ENOENT' : info.isFile() && info.size === 0) return undefined;
    try {
      return await openStore(path, { readonly: true });
    } catch (error) {
      if (error instanceof EmptyStoreError) return undefined;
      throw error;
    }
  };
  const first = await attempt();
  if (first !== undefined || options.signal?.aborted) return first;
  options.onWaiting?.();
  return new Promise<SessionStore | undefined>((resolveStore, reject) => {
    let busy = false;
    let again = false;
    let done = false;
    const finish = (result: () => void): void => {
      done = true;
      watcher.stop();
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      result();
    };
    const check = (): void => {
      if (done) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      attempt().then(
        (store) => {
          busy = false;
          // Aborted while this attempt ran: the caller no longer wants it.
          if (done) void store?.close();
          else if (store !== undefined) finish(() => resolveStore(store));
          else if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) => {
          if (!done) finish(() => reject(error));
        },
      );
    };
    const onAbort = (): void => finish(() => resolveStore(undefined));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const watcher = watchStoreFiles(path, check, () => undefined);
    const timer = setInterval(check, options.pollMs ?? FOLLOW_POLL_MS);
    if (watcher.watching) timer.unref();
    check();
  });
}

/**
 * Calls `onChange` when the store file or its `-wal` changes, watching their folder (the `-wal`
 * file is created and removed by the writer). `watching` is false when no watch could be set up.
 */
function watchStoreFiles(file: string, onChange: () => void, onError: (error: unknown) => void): { watching: boolean; stop(): void } {
  const names = new Set([basename(file), `${basename(file)}-wal`]);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (name === null || names.has(name)) onChange();
    });
    // The folder removed: the poll still runs.
    watcher.on('error', onError);
  } catch (error) {
    onError(error);
  }
  return { watching: watcher !== undefined, stop: () => watcher?.close() };
}

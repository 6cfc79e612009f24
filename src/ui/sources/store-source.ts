import { MitmError } from '../../errors.js';
import type { FilterPredicate } from '../../record/filter/filter.js';
import { harCreator } from '../../record/har-creator.js';
import { followStore, lastStoredId, type StoreFollower } from '../../record/store/follow-store.js';
import { type SessionStore, storeFileBytes } from '../../record/store/open-store.js';
import type { FlowRow, StoredFlow } from '../../record/store/types.js';
import { storedToHar } from '../../record/har-stored.js';
import { caFingerprint } from '../ca-fingerprint.js';
import { ListenerSet } from './listeners.js';
import { detailOfStored, subjectOfRow, summaryOfStored } from './stored-view.js';
import type { ListOptions, UiSource } from './source.js';

/** Options of `storeSource`. */
export interface StoreSourceOptions {
  /** The root CA certificate (PEM) to show and serve (`mitm ui --ca DIR`); none by default. */
  readonly caPem?: string | undefined;
  /** The follower's fallback poll in ms (default 1000). */
  readonly pollMs?: number;
}

/**
 * A read-only source over a store file (`mitm ui --store FILE`): no clearing, and flows that
 * another process (a proxy with `--store`) writes meanwhile appear live, read by a store follower.
 */
export function storeSource(store: SessionStore, options: StoreSourceOptions = {}): UiSource {
  const readOnly = (what: string): MitmError =>
    new MitmError('store_failed', `the store ${store.file} is open read-only in the inspector; ${what}`);
  const where = (filter: FilterPredicate) => (row: FlowRow) => filter(subjectOfRow(row));
  const listeners = new ListenerSet();
  const fingerprint = caFingerprint(options.caPem);
  const after = lastStoredId(store);
  let follower: StoreFollower | undefined;
  const announce = (flows: readonly StoredFlow[]): void => {
    for (const flow of flows) {
      const summary = summaryOfStored(flow);
      const subject = subjectOfRow(lazyBodies(store, flow));
      listeners.each((listener) => listener.flow?.(summary, subject));
    }
  };
  return {
    kind: 'store',
    readOnly: true,
    list(filter: FilterPredicate, page: ListOptions = {}) {
      // New rows are announced first, so a snapshot taken now never sends a flow twice.
      follower?.poll();
      const all = store.query({ where: where(filter), bodies: false });
      const offset = page.offset ?? 0;
      const slice = all.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
      return { total: all.length, flows: slice.map(summaryOfStored) };
    },
    detail(id) {
      const flow = store.get(id);
      return flow ? detailOfStored(flow) : undefined;
    },
    har: (filter, ids) =>
      storedToHar(store.query({ where: (row) => (ids === undefined || ids.has(row.id)) && where(filter)(row) }), harCreator()),
    connections: () => [],
    stats: () => {
      // Read while another process writes the store: a busy or failing read must not end the
      // inspector (stats are pushed from a timer), it only leaves the figures out.
      let flows = 0;
      try {
        flows = store.count();
      } catch {
        return { source: 'store', readOnly: true, flows, connections: 0, caFingerprint: fingerprint };
      }
      return {
        source: 'store',
        readOnly: true,
        flows,
        connections: 0,
        caFingerprint: fingerprint,
        store: { file: store.file, bytes: storeFileBytes(store.file), flows },
      };
    },
    caPem: () => options.caPem,
    clear() {
      throw readOnly('nothing was cleared');
    },
    pin() {
      throw readOnly('flows cannot be pinned');
    },
    importHar() {
      throw readOnly('nothing can be imported into it');
    },
    subscribe(listener) {
      follower ??= followStore(store, { after, onFlows: announce, ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) });
      return listeners.add(listener);
    },
    close() {
      follower?.close();
      listeners.clear();
    },
  };
}

/** A stored flow's head as a filter row whose body texts are read from the store when a `req:`/`res:` term asks, once. */
function lazyBodies(store: SessionStore, head: StoredFlow): FlowRow {
  let whole: StoredFlow | undefined;
  const load = (): StoredFlow | undefined => {
    whole ??= store.get(head.id);
    return whole;
  };
  return { ...head, requestText: () => load()?.requestBody?.text, responseText: () => load()?.responseBody?.text };
}

import { statSync } from 'node:fs';
import { MitmError } from '../errors.js';
import type { FilterPredicate } from '../record/filter/filter.js';
import { harCreator } from '../record/har-creator.js';
import type { SessionStore } from '../record/store/open-store.js';
import { storedToHar } from '../record/har-stored.js';
import { detailOfStored, subjectOfRow, summaryOfStored } from './stored-view.js';
import type { ListOptions, UiSource } from './source.js';

/** A read-only source over a store file (`mitm ui --store FILE`): no live events, no clearing. */
export function storeSource(store: SessionStore, options: { readonly caPem?: string | undefined } = {}): UiSource {
  const readOnly = (what: string): MitmError =>
    new MitmError('store_failed', `the store ${store.file} is open read-only in the inspector; ${what}`);
  const where = (filter: FilterPredicate) => (row: Parameters<typeof subjectOfRow>[0]) => filter(subjectOfRow(row));
  return {
    kind: 'store',
    readOnly: true,
    list(filter: FilterPredicate, page: ListOptions = {}) {
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
    stats: () => ({
      source: 'store',
      readOnly: true,
      flows: store.count(),
      connections: 0,
      store: { file: store.file, bytes: fileSize(store.file) },
    }),
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
    subscribe: () => () => undefined,
    close: () => undefined,
  };
}

function fileSize(file: string): number {
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

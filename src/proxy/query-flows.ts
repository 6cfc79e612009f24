import type { ProxyConfig } from '../config/schema.js';
import type { Flow } from '../flow/flow.js';
import { compileFilter, subjectOfFlow } from '../record/filter/filter.js';
import { flowRows } from '../record/store/flow-rows.js';
import { storedFromRows } from '../record/store/stored-from-rows.js';
import type { StoredFlow } from '../record/store/types.js';

/** `proxy.query` options: paging and order, as a store's `query` takes them. */
export interface FlowQueryOptions {
  /** At most this many flows (default: all). */
  readonly limit?: number | undefined;
  /** Skips this many matching flows first. */
  readonly offset?: number | undefined;
  /** Oldest first (`asc`, the default) or newest first. */
  readonly order?: 'asc' | 'desc' | undefined;
}

/**
 * Filters the in-memory ring (a proxy without a store) and returns the matches in the store's
 * shape, with the proxy's flow id as `id`. Throws FilterError when the filter does not parse.
 */
export function queryRing(flows: readonly Flow[], filter: string, options: FlowQueryOptions, config: ProxyConfig): StoredFlow[] {
  const matches = compileFilter(filter);
  const { limit = Number.POSITIVE_INFINITY, offset = 0, order = 'asc' } = options;
  const ordered = order === 'asc' ? flows : [...flows].reverse();
  const out: StoredFlow[] = [];
  let skipped = 0;
  for (const flow of ordered) {
    if (out.length >= limit) break;
    if (!matches(subjectOfFlow(flow))) continue;
    if (skipped < offset) {
      skipped += 1;
      continue;
    }
    out.push(storedFromRows(flowRows(flow, { mode: flow.mode }, Math.max(config.recordBodyLimit, 1)), flow.id));
  }
  return out;
}

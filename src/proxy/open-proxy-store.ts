import type { ProxyConfig } from '../config/schema.js';
import { isMitmError } from '../errors.js';
import type { StoreErrorRecord } from '../events.js';
import type { SessionStore } from '../record/store/open-store.js';

/**
 * Opens the `store` option's file for a proxy, or returns undefined without one. Refuses a bad
 * path with the store's own error (`store_failed`, `store_invalid`, `store_unavailable`, naming
 * the file); a write that fails later is reported through `onError` and never thrown.
 */
export async function openProxyStore(config: ProxyConfig, onError: (record: StoreErrorRecord) => void): Promise<SessionStore | undefined> {
  if (config.store === undefined) return undefined;
  const file = config.store;
  // Loaded only with --store: the store's modules and its writer thread are not start-up's business.
  const { openStore } = await import('../record/store/open-store.js');
  return openStore(file, {
    storeBodyLimit: config.storeBodyLimit,
    maxSize: config.storeMaxSize,
    onError: (error) => onError({ file, code: isMitmError(error) ? error.code : 'store_failed', message: error.message }),
  });
}

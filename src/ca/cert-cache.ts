// TLS contexts for intercepted hosts, minted on first use. Caching the built SecureContext rather
// than PEM (as mockttp does) skips re-parsing key and certificate on every handshake.
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { normalizeHost } from '../net/target.js';
import type { LeafMinter } from './mint-leaf.js';
import { createTurnQueue } from './turn-queue.js';

/** Secure contexts per host, minted on demand. */
export interface CertCache {
  /**
   * The context for `host`, minting a leaf on a miss; concurrent misses for one host share one mint.
   * `extraNames` (e.g. names copied from the origin's own certificate) join its subjectAltName.
   */
  get(host: string, extraNames?: readonly string[]): Promise<SecureContext>;
  /** Entries held, including mints in flight. */
  readonly size: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Re-mint this long before a leaf expires, so no client ever sees one that is about to lapse.
const REFRESH_MARGIN_MS = 7 * DAY_MS;

/** Creates a cache of at most `options.max` contexts, each re-minted well before its leaf expires. */
export function createCertCache(minter: LeafMinter, options: { max: number }): CertCache {
  // Building a SecureContext is synchronous and costs ~1 ms (OpenSSL context set-up, key and
  // certificate parsing). Mints finishing together would otherwise build theirs back to back in
  // one iteration; one per iteration keeps each stall near that (bench/mint-burst.ts).
  const nextTurn = createTurnQueue();
  const cache = new LRUCache<string, SecureContext>({ max: options.max });
  // Mints in flight, outside the LRU: a burst of more new hosts than `max` cannot evict them, and
  // a miss costs a Map lookup rather than lru-cache's fetch() bookkeeping (~15-80 µs per miss,
  // paid in one turn by every connection of a burst).
  const minting = new Map<string, Promise<SecureContext>>();

  const mint = async (key: string): Promise<SecureContext> => {
    const [host = '', ...extraNames] = key.split(' ');
    const leaf = await minter.mint(host, extraNames);
    await nextTurn();
    const context = createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
    cache.set(key, context, { ttl: refreshAfterMs(leaf.notAfter, Date.now()) });
    return context;
  };

  return {
    get(host, extraNames = []) {
      let key: string;
      try {
        // Normalised here too, so `Example.COM` and `example.com.` share one entry. Host names hold
        // no spaces (normalizeHost refuses them), so a space-joined key is unambiguous.
        key = [normalizeHost(host), ...[...extraNames].sort()].join(' ');
      } catch (error) {
        return Promise.reject(error);
      }
      const cached = cache.get(key);
      if (cached) return Promise.resolve(cached);
      let pending = minting.get(key);
      if (!pending) {
        // Concurrent misses for one key share this mint; a failed one is forgotten, so the next get tries again.
        pending = mint(key).finally(() => minting.delete(key));
        minting.set(key, pending);
      }
      return pending;
    },
    get size() {
      return cache.size + minting.size;
    },
  };
}

/** How long to serve a leaf expiring at `notAfter`: until 7 days before it, or for half its remaining life if longer. */
export function refreshAfterMs(notAfter: Date, now: number): number {
  const remaining = notAfter.getTime() - now;
  // Half the remaining life wins only for leaves cut short by a CA that expires within two weeks.
  // lru-cache reads ttl 0 as "never expires", so the floor is 1 ms.
  return Math.max(1, Math.floor(Math.max(remaining - REFRESH_MARGIN_MS, remaining / 2)));
}

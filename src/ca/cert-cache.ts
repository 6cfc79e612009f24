// TLS contexts for intercepted hosts, minted on first use. Caching the built SecureContext rather
// than PEM (as mockttp does) skips re-parsing key and certificate on every handshake.
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { normalizeHost } from '../proxy/target.js';
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
  const cache = new LRUCache<string, SecureContext>({
    max: options.max,
    // A burst of more new hosts than `max` evicts mints still in flight; without this their callers
    // would get an AbortError instead of a certificate.
    ignoreFetchAbort: true,
    fetchMethod: async (key, _stale, { options: entry }) => {
      const [host = '', ...extraNames] = key.split(' ');
      const leaf = await minter.mint(host, extraNames);
      entry.ttl = refreshAfterMs(leaf.notAfter, Date.now());
      await nextTurn();
      return createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
    },
  });

  return {
    async get(host, extraNames = []) {
      // Normalised here too, so `Example.COM` and `example.com.` share one entry. Host names hold no
      // spaces (normalizeHost refuses them), so a space-joined key is unambiguous.
      const key = [normalizeHost(host), ...[...extraNames].sort()].join(' ');
      const context = await cache.fetch(key);
      // fetch() yields undefined only when the fetchMethod does, which ours never does.
      if (context === undefined) throw new Error(`no TLS context was produced for ${key}`);
      return context;
    },
    get size() {
      return cache.size;
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

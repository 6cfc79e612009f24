// The HTTP/1.1 ways to an origin: plain HTTP through a keep-alive Node agent; TLS through undici's
// Pool, one per origin (h1-undici.ts), or, for requests undici will not carry as they are, through
// a keep-alive https agent (h1-origin.ts). Each pool is capped at --max-origin-connections.
// undici is loaded after start-up rather than before it (docs/performance.md, "Start-up"):
// startProxy warms it up once listening, and a TLS request that comes first waits for it.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { readPastWriteError } from '../net/read-past-write-error.js';
import { formatAuthority, type Target } from '../net/target.js';
import { h1Call, PlainOriginAgent, TlsOriginAgent } from './h1-origin.js';
import type * as FastPath from './h1-undici.js';
import { deferred, type OriginCall, type OriginRequest } from './origin-call.js';
import { MAX_REMEMBERED_ORIGINS, type OriginTarget } from './origin-target.js';

let fastPath: typeof FastPath | undefined;
let fastPathLoading: Promise<typeof FastPath> | undefined;

/** Loads the undici fast path (startProxy calls it once listening, so the first TLS request need not wait). */
export function loadFastPath(): Promise<typeof FastPath> {
  fastPathLoading ??= import('./h1-undici.js').then((loaded) => {
    fastPath = loaded;
    return loaded;
  });
  return fastPathLoading;
}

/** How the HTTP/1.1 pools open connections and how large they grow. */
export interface H1PoolOptions {
  readonly maxConnections: number;
  /** Idle pooled connections are closed after this. */
  readonly idleMs: number;
  /** A TCP connection to a plain-HTTP origin. */
  readonly dial: (target: Target) => Promise<Socket>;
  /** A TLS connection to an origin that chose http/1.1 (a parked spare, else a new handshake). */
  readonly open: (origin: OriginTarget) => Promise<TLSSocket>;
}

/** HTTP/1.1 requests to origins, on pooled keep-alive connections. */
export class H1Pools {
  readonly #plain: PlainOriginAgent;
  readonly #secure: TlsOriginAgent;
  // HTTP/1.1 TLS origins: undici for the requests it can carry, the agent for the rest.
  readonly #fast: LRUCache<string, ReturnType<typeof FastPath.createUndiciPool>>;
  readonly #options: H1PoolOptions;

  constructor(options: H1PoolOptions) {
    this.#options = options;
    const pool = {
      keepAlive: true,
      maxSockets: options.maxConnections,
      maxFreeSockets: Math.min(options.maxConnections, 32),
      // Reuse the most recently used socket so idle ones age out instead of all staying warm.
      scheduling: 'lifo' as const,
      timeout: options.idleMs,
    };
    // An origin that answers an upload early and closes resets the connection under the upload:
    // its answer is read before the failed write tears the socket down (read-past-write-error.ts).
    this.#plain = new PlainOriginAgent(pool, (request) => options.dial(targetOf(request)).then(readPastWriteError));
    this.#secure = new TlsOriginAgent(pool, (request) =>
      options
        .open({ ...targetOf(request), secure: true, servername: typeof request.servername === 'string' ? request.servername : '' })
        .then(readPastWriteError),
    );
    this.#fast = new LRUCache({
      max: MAX_REMEMBERED_ORIGINS,
      // The least recently used pool goes first, closed once its requests are done.
      dispose: (fast, _key, reason) => {
        if (reason === 'evict') void fast.pool.close();
      },
    });
  }

  /** `request` to a plain-HTTP origin. */
  plain(origin: OriginTarget, request: OriginRequest): OriginCall {
    return h1Call(this.#plain, origin, request);
  }

  /** `request` to a TLS origin that speaks HTTP/1.1; `key` is its originKey. */
  secure(origin: OriginTarget, key: string, request: OriginRequest): OriginCall {
    if (fastPath === undefined)
      return deferred(
        request,
        loadFastPath().then(() => () => this.secure(origin, key, request)),
      );
    if (!fastPath.fitsUndici(request)) return h1Call(this.#secure, origin, request);
    let fast = this.#fast.get(key);
    if (!fast) {
      fast = fastPath.createUndiciPool(formatAuthority(origin), {
        connections: this.#options.maxConnections,
        idleMs: this.#options.idleMs,
        open: () => this.#options.open(origin).then(readPastWriteError),
      });
      this.#fast.set(key, fast);
    }
    return fastPath.undiciCall(fast, request);
  }

  /** Destroys every pooled connection. */
  close(): void {
    this.#plain.destroy();
    this.#secure.destroy();
    for (const fast of this.#fast.values()) void fast.pool.destroy();
    this.#fast.clear();
  }
}

function targetOf(options: { host?: string | null | undefined; port?: string | number | null | undefined }): Target {
  return { host: String(options.host), port: Number(options.port) };
}

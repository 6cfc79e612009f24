// Which protocol each TLS origin speaks. Its first connection offers ALPN ['h2', 'http/1.1'], once
// for all the requests waiting on it, and the answer is remembered per host, port and SNI name:
// an h2 connection becomes a pooled session (origin-pool.ts), an http/1.1 one is handed back.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { formatAuthority } from '../net/target.js';
import type { OriginHandshakes } from './origin-handshake.js';
import type { H2SessionPool } from './origin-pool.js';
import { MAX_REMEMBERED_ORIGINS, type OriginTarget } from './origin-target.js';

/** What a fresh connection settled to: an h2 session in the pool, or an http/1.1 socket to use. */
export type ProbeOutcome = 'h2' | TLSSocket;

const ALPN_OFFER = ['h2', 'http/1.1'];

/** The remembered ALPN choices, and the probes under way (one per origin). */
export class AlpnProbes {
  readonly #protocols = new LRUCache<string, 'h2' | 'http/1.1'>({ max: MAX_REMEMBERED_ORIGINS });
  readonly #pending = new Map<string, Promise<ProbeOutcome>>();
  readonly #handshakes: OriginHandshakes;
  readonly #sessions: H2SessionPool;
  readonly #timeoutMs: number;

  constructor(handshakes: OriginHandshakes, sessions: H2SessionPool, timeoutMs: number) {
    this.#handshakes = handshakes;
    this.#sessions = sessions;
    this.#timeoutMs = timeoutMs;
  }

  /** The protocol the origin of `key` chose on its latest connection, if remembered. */
  chosen(key: string): 'h2' | 'http/1.1' | undefined {
    return this.#protocols.get(key);
  }

  /** True when the choice of `key` is remembered (without touching its recency). */
  knows(key: string): boolean {
    return this.#protocols.has(key);
  }

  /** True while a probe of `key` is under way. */
  probing(key: string): boolean {
    return this.#pending.has(key);
  }

  /**
   * Opens a new connection to a TLS origin offering h2 and http/1.1, once for all requests that
   * wait for it; remembers the choice. h2: the session joins the pool. http/1.1: the socket is
   * returned for the first waiter to claim. `connected`: a TCP connection already dialled to run
   * the handshake over (dropped when a probe is under way already).
   */
  probe(origin: OriginTarget, key: string, connected?: Socket): Promise<ProbeOutcome> {
    let pending = this.#pending.get(key);
    if (pending !== undefined) {
      connected?.destroy();
      return pending;
    }
    pending = this.#handshakes.open(origin, ALPN_OFFER, connected).then((socket) => this.settle(origin, key, socket));
    this.#pending.set(key, pending);
    const settled = (): void => {
      this.#pending.delete(key);
    };
    pending.then(settled, settled);
    return pending;
  }

  /** Remembers the protocol a fresh connection chose; h2: its session joins the pool; http/1.1: the socket is returned. */
  async settle(origin: OriginTarget, key: string, socket: TLSSocket): Promise<ProbeOutcome> {
    const chosen = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
    this.#protocols.set(key, chosen);
    if (chosen === 'http/1.1') return socket;
    await this.#sessions.open(key, socket, formatAuthority(origin), this.#timeoutMs);
    return 'h2';
  }
}

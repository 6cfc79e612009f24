// A connection whose handshake chose http/1.1 (a probe's, or one adopted from the certificate
// sniffer) is parked here for the HTTP/1.1 pools to take for the request that opened it. One per
// origin; unclaimed (its request gave up meanwhile), it is dropped after `idleMs`.
import type { TLSSocket } from 'node:tls';

/** The parked http/1.1 sockets, one per origin key. */
export class SpareSockets {
  readonly #spares = new Map<string, { socket: TLSSocket; expire: () => void }>();
  readonly #offered = new WeakSet<TLSSocket>();
  readonly #idleMs: number;
  #closed = false;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** True while `key` has a socket parked. */
  has(key: string): boolean {
    return this.#spares.has(key);
  }

  /** Parks `socket` for `key`, replacing (and destroying) an older one; only the first offer of a socket counts. After close(), destroys it. */
  offer(key: string, socket: TLSSocket): void {
    if (this.#offered.has(socket) || socket.destroyed) return;
    this.#offered.add(socket);
    if (this.#closed) {
      socket.destroy();
      return;
    }
    // Unclaimed (its request gave up meanwhile), it must not linger.
    const expire = (): void => {
      socket.destroy();
    };
    socket.setTimeout(this.#idleMs);
    socket.once('timeout', expire);
    // An origin that resets a waiting connection must not take the process down with an unheard error.
    socket.once('error', expire);
    socket.once('close', () => {
      if (this.#spares.get(key)?.socket === socket) this.#spares.delete(key);
    });
    this.#spares.get(key)?.socket.destroy();
    this.#spares.set(key, { socket, expire });
  }

  /** The socket parked for `key`, now the caller's (its idle timer stopped), if any. */
  take(key: string): TLSSocket | undefined {
    const spare = this.#spares.get(key);
    if (!spare) return undefined;
    this.#spares.delete(key);
    spare.socket.off('timeout', spare.expire);
    spare.socket.setTimeout(0);
    return spare.socket;
  }

  /** Destroys every parked socket and each one offered later. */
  close(): void {
    this.#closed = true;
    for (const spare of this.#spares.values()) spare.socket.destroy();
    this.#spares.clear();
  }
}

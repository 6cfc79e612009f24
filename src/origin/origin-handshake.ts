// TLS session #2 on a fresh connection: dialled through the connector, offered the caller's ALPN
// list and the origin's latest session ticket, bounded by the upstream timeout. Every timer is
// cleared however the handshake ends, and `closing` aborts the handshakes still under way (issue #11).
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { MitmError } from '../errors.js';
import { formatAuthority } from '../net/target.js';
import type { OriginConnector } from './origin-connector.js';
import { noteSecured } from './origin-connection.js';
import { MAX_REMEMBERED_ORIGINS, originKey, type OriginTarget } from './origin-target.js';

/** Opens verified TLS connections to origins, resuming their sessions; `closing` ends those under way. */
export class OriginHandshakes {
  // The latest TLS session ticket per origin: resuming skips the certificate chain on later
  // connections, as https.Agent's own session cache did before the agents dialled for themselves.
  readonly #tickets = new LRUCache<string, Buffer>({ max: MAX_REMEMBERED_ORIGINS });
  readonly #connector: OriginConnector;
  readonly #timeoutMs: number;
  readonly #closing: AbortSignal;

  /** `closing` (the upstream's close) destroys every dial and handshake under way and fails later ones at once. */
  constructor(connector: OriginConnector, timeoutMs: number, closing: AbortSignal) {
    this.#connector = connector;
    this.#timeoutMs = timeoutMs;
    this.#closing = closing;
  }

  /** Keeps the session tickets `socket` receives, to resume the next connection to the origin of `key`. */
  keepTickets(key: string, socket: TLSSocket): void {
    socket.on('session', (ticket: Buffer) => this.#tickets.set(key, ticket));
  }

  /**
   * A new connection to `origin` offering `alpn`, once its handshake is done; rejects with the
   * dial, TLS or timeout error. `connected`: a TCP connection to the origin already dialled (the
   * CONNECT's, connect.ts), used instead of dialling.
   */
  async open(origin: OriginTarget, alpn: string[], connected?: Socket): Promise<TLSSocket> {
    const signal = this.#closing;
    const raw = connected ?? (await this.#connector.dial(origin, signal));
    if (signal.aborted) {
      raw.destroy();
      throw closingError();
    }
    // A connection dialled for the CONNECT (connect.ts) may have been closed by the origin while
    // the client's handshake ran: TLS over it would wait for the timeout, never failing.
    if (raw.destroyed || raw.readableEnded) {
      raw.destroy();
      throw originClosed();
    }
    const key = originKey(origin);
    const tlsStart = Date.now();
    let socket: TLSSocket;
    try {
      socket = this.#connector.secure(raw, {
        servername: origin.servername,
        host: origin.host,
        ALPNProtocols: alpn,
        session: this.#tickets.get(key),
      });
    } catch (error) {
      raw.destroy();
      throw error;
    }
    this.keepTickets(key, socket);
    return new Promise((resolve, reject) => {
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', settle);
        socket.off('secureConnect', onSecure);
        socket.off('close', onClose);
        raw.off('close', onClose);
        if (!error) {
          resolve(socket);
          return;
        }
        socket.destroy();
        raw.destroy();
        reject(error);
      };
      const onSecure = (): void => {
        noteSecured(socket, raw, origin.servername, tlsStart);
        settle();
      };
      const onAbort = (): void => settle(closingError());
      const onClose = (): void => settle(originClosed());
      const timer = setTimeout(
        () =>
          settle(
            new MitmError('upstream_timeout', `the TLS handshake with ${formatAuthority(origin)} took longer than ${this.#timeoutMs} ms`),
          ),
        this.#timeoutMs,
      ).unref(); // the handshaking socket keeps the process alive while it matters
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', settle);
      socket.once('secureConnect', onSecure);
      socket.once('close', onClose);
      raw.once('close', onClose);
    });
  }
}

/** What a connection or request cut short by the upstream's close() fails with; no client is left to read it. */
export function closingError(): Error {
  return Object.assign(new Error('the proxy is closing'), { code: 'ECONNABORTED' });
}

// What Node reports for a TLS connection the peer closed before the handshake ended (an upstream_reset).
function originClosed(): Error {
  return Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), {
    code: 'ECONNRESET',
  });
}

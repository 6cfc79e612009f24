// The origin side: TLS session #2 (or plain HTTP), HTTP/2 or HTTP/1.1 as each origin chooses.
// This module routes each request; the parts it composes have one job each:
//   alpn-probe.ts        which protocol an origin speaks (probed once, remembered)
//   origin-handshake.ts  a fresh verified TLS connection, with the origin's session ticket
//   origin-pool.ts       HTTP/2 sessions, one per origin, many streams each (h2-origin.ts)
//   spare-sockets.ts     an http/1.1 probe socket parked for the request that opened it
//   h1-pools.ts          HTTP/1.1: undici per TLS origin, keep-alive Node agents for the rest
// Every connection is opened by the `OriginConnector` (origin-agents.ts), the one seam for
// upstream proxies and client certificates.
import type { ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';
import { AlpnProbes, type ProbeOutcome } from './alpn-probe.js';
import { H1Pools } from './h1-pools.js';
import { h2Call, wasUnprocessed } from './h2-origin.js';
import { deferred, failed, recover, type OriginCall, type OriginRequest } from './origin-call.js';
import type { OriginConnector } from './origin-connector.js';
import { closingError, OriginHandshakes } from './origin-handshake.js';
import { H2SessionPool } from './origin-pool.js';
import { originKey, type OriginTarget } from './origin-target.js';
import { SpareSockets } from './spare-sockets.js';
import { closingController } from '../net/closing.js';

export type { OriginCall, OriginRequest, OriginResponse } from './origin-call.js';
export type { OriginConnector } from './origin-connector.js';

/** Pooled connections to origins, shared by every client. */
export interface Upstream {
  /** Starts `request` to `origin`. */
  request(origin: OriginTarget, request: OriginRequest): OriginCall;
  /**
   * Takes a verified TLS connection to `origin` opened elsewhere (the certificate sniffer's), for
   * the requests that follow, as if it had opened it itself; destroys it when it has one already.
   */
  adopt(origin: OriginTarget, socket: TLSSocket): void;
  /**
   * Opens a connection to a TLS `origin` ahead of its first request, unless one is open, being
   * opened or its protocol is known; that request then takes it. A failure is left for the
   * request to meet (and report) on its own attempt. With `socket` (a TCP connection to the origin
   * already dialled, the CONNECT's), TLS runs over it rather than over a new dial: as the protocol
   * probe, or, for an origin known to choose http/1.1, as a spare for its pool; it is destroyed
   * when a connection is open or being opened already.
   */
  prepare(origin: OriginTarget, socket?: Socket): void;
  /** True when an HTTP/2 session to `origin` is open: its next request needs no new connection. */
  hasSession(origin: OriginTarget): boolean;
  /** Destroys every pooled connection and session, and every connection still being opened. */
  close(): void;
}

// Idle pooled connections and sessions are closed after this; active ones are policed by exchange.ts.
const IDLE_MS = 60_000;

/** Creates the origin side, bounded per origin, opening connections with `connector`. */
export function createUpstream(config: ProxyConfig, connector: OriginConnector): Upstream {
  return new PooledUpstream(config, connector);
}

/** Routes each request to its origin's HTTP/2 session, undici pool or Node agent. */
class PooledUpstream implements Upstream {
  // Aborted by close(): dials and handshakes under way are destroyed, later ones fail at once.
  readonly #closing = closingController();
  readonly #handshakes: OriginHandshakes;
  readonly #sessions = new H2SessionPool(IDLE_MS);
  readonly #probes: AlpnProbes;
  readonly #spares = new SpareSockets(IDLE_MS);
  readonly #h1: H1Pools;

  constructor(config: ProxyConfig, connector: OriginConnector) {
    this.#handshakes = new OriginHandshakes(connector, config.upstreamTimeout, this.#closing.signal);
    this.#probes = new AlpnProbes(this.#handshakes, this.#sessions, config.upstreamTimeout);
    this.#h1 = new H1Pools({
      maxConnections: config.maxOriginConnections,
      idleMs: IDLE_MS,
      dial: (target) => connector.dial(target, this.#closing.signal),
      // A connection for HTTP/1.1 requests: the parked spare if there is one, else a new one offering
      // only http/1.1 (this origin chose it, and an h2 answer would be unusable in these pools).
      open: (origin) => {
        const spare = this.#spares.take(originKey(origin));
        return spare ? Promise.resolve(spare) : this.#handshakes.open(origin, ['http/1.1']);
      },
    });
  }

  request(origin: OriginTarget, request: OriginRequest): OriginCall {
    if (this.#closing.signal.aborted) return failed(closingError());
    if (!origin.secure) return this.#h1.plain(origin, request);
    const key = originKey(origin);
    if (this.#probes.chosen(key) === 'http/1.1') return this.#h1.secure(origin, key, request);
    const session = this.#sessions.get(key);
    if (session) return this.#onSession(session, origin, key, request, false);
    return deferred(request, this.#route(origin, key, request, false));
  }

  adopt(origin: OriginTarget, socket: TLSSocket): void {
    const key = originKey(origin);
    if (this.#closing.signal.aborted || socket.destroyed || this.#connecting(key)) {
      socket.destroy();
      return;
    }
    this.#handshakes.keepTickets(key, socket);
    this.#probes.settle(origin, key, socket).then(this.#park(key), () => socket.destroy());
  }

  prepare(origin: OriginTarget, socket?: Socket): void {
    const key = originKey(origin);
    if (this.#closing.signal.aborted || !origin.secure || this.#connecting(key)) {
      socket?.destroy();
      return;
    }
    if (socket && this.#probes.chosen(key) === 'http/1.1') {
      this.#handshakes.open(origin, ['http/1.1'], socket).then(
        (tls) => this.#spares.offer(key, tls),
        () => undefined,
      );
      return;
    }
    // Without a socket in hand, an origin whose protocol is known is left to its pools.
    if (!socket && this.#probes.knows(key)) return;
    this.#probes.probe(origin, key, socket).then(this.#park(key), () => undefined);
  }

  hasSession(origin: OriginTarget): boolean {
    return this.#sessions.get(originKey(origin)) !== undefined;
  }

  close(): void {
    // First the connections being opened, so none lands in a pool already emptied.
    this.#closing.abort();
    this.#h1.close();
    this.#sessions.close();
    this.#spares.close();
  }

  /** True while `key` has a connection open, parked or being opened: nothing more to open ahead. */
  #connecting(key: string): boolean {
    return this.#sessions.get(key) !== undefined || this.#spares.has(key) || this.#probes.probing(key);
  }

  /** What a fresh connection settled to: an http/1.1 socket is parked for the request that follows. */
  #park(key: string): (outcome: ProbeOutcome) => void {
    return (outcome) => {
      if (outcome !== 'h2') this.#spares.offer(key, outcome);
    };
  }

  /**
   * A stream on `session`. One the origin refused unprocessed (a GOAWAY raced it) goes once more,
   * on a fresh connection, when its body can be sent again (RFC 9113 §8.7).
   */
  #onSession(session: ClientHttp2Session, origin: OriginTarget, key: string, request: OriginRequest, retried: boolean): OriginCall {
    const call = h2Call(session, request, (stream) => this.#sessions.track(session, stream));
    if (retried || !(request.bodyless || request.body.kind === 'bytes')) return call;
    return recover(call, (error) => (wasUnprocessed(error) ? deferred(request, this.#route(origin, key, request, true)) : undefined));
  }

  /** Resolves to the call to make once the origin's protocol and connection are known. */
  async #route(origin: OriginTarget, key: string, request: OriginRequest, retried: boolean): Promise<() => OriginCall> {
    // Two tries: a session can close between its handshake and our first stream, but an origin
    // that keeps doing so gets a 502, not endless reconnects.
    for (let attempt = 0; ; attempt += 1) {
      if (this.#closing.signal.aborted) throw closingError();
      const session = this.#sessions.get(key);
      if (session) return () => this.#onSession(session, origin, key, request, retried);
      if (this.#probes.chosen(key) === 'http/1.1') return () => this.#h1.secure(origin, key, request);
      if (attempt === 2) throw Object.assign(new Error('the HTTP/2 session closed as soon as it opened'), { code: 'ECONNRESET' });
      const outcome = await this.#probes.probe(origin, key);
      if (outcome === 'h2') continue;
      // Waiters after the first find the socket claimed and open their own through the pools.
      this.#spares.offer(key, outcome);
      if (this.#closing.signal.aborted) throw closingError();
      return () => this.#h1.secure(origin, key, request);
    }
  }
}

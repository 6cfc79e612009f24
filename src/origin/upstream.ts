// The origin side: TLS session #2 (or plain HTTP), HTTP/2 or HTTP/1.1 as each origin chooses.
// A TLS origin is offered ALPN ['h2', 'http/1.1'] on its first connection and the answer is
// remembered (per host, port and SNI name): h2 origins then share one pooled session with many
// streams (origin-pool.ts, h2-origin.ts), the others keep-alive HTTP/1.1 agents (h1-origin.ts).
// Every connection is opened by the `OriginConnector` (origin-agents.ts), the one seam for
// upstream proxies and client certificates.
import type { ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';
import { MitmError } from '../errors.js';
import { h1Call, PlainOriginAgent, TlsOriginAgent } from './h1-origin.js';
import { createUndiciPool, fitsUndici, undiciCall } from './h1-undici.js';
import { h2Call, wasUnprocessed } from './h2-origin.js';
import { deferred, recover, type OriginCall, type OriginRequest } from './origin-call.js';
import { H2SessionPool } from './origin-pool.js';
import { formatAuthority, type Target } from '../net/target.js';
import type { OriginTarget } from './origin-target.js';

export type { OriginCall, OriginRequest, OriginResponse } from './origin-call.js';

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
   * request to meet (and report) on its own attempt.
   */
  prepare(origin: OriginTarget): void;
  /** Destroys every pooled connection and session. */
  close(): void;
}

/**
 * Opens connections to origins: the seam for upstream proxies (`dial`) and client certificates
 * (`secure`). Every origin connection the upstream makes starts in `dial`.
 */
export interface OriginConnector {
  /** A connected socket to `target`; rejects with a connect error or a MitmError naming the origin. */
  dial(target: Target): Promise<Socket>;
  /**
   * TLS over `socket`, verified against the origin trust unless --insecure; '' servername means
   * none (IP literal). `session` is a ticket from an earlier connection to the same origin, to resume.
   */
  secure(
    socket: Duplex,
    options: { servername: string; host: string; ALPNProtocols?: string[] | undefined; session?: Buffer | undefined },
  ): TLSSocket;
}

// Idle pooled connections and sessions are closed after this; active ones are policed by exchange.ts.
const IDLE_MS = 60_000;
// Origins whose ALPN choice and TLS ticket are remembered; the oldest go first (they are only re-probed).
const MAX_REMEMBERED = 1000;
const ALPN_OFFER = ['h2', 'http/1.1'];

/** Creates the origin side, bounded per origin, opening connections with `connector`. */
export function createUpstream(config: ProxyConfig, connector: OriginConnector): Upstream {
  const protocols = new Map<string, 'h2' | 'http/1.1'>();
  // A socket whose handshake chose http/1.1, waiting for the agent to take it for the request that
  // opened it; `expire` drops it should that request give up first.
  const spares = new Map<string, { socket: TLSSocket; expire: () => void }>();
  const offered = new WeakSet<TLSSocket>();
  // The latest TLS session ticket per origin: resuming skips the certificate chain on later
  // connections, as https.Agent's own session cache did before the agents dialled for themselves.
  const tickets = new Map<string, Buffer>();
  const probes = new Map<string, Promise<'h2' | TLSSocket>>();
  const sessions = new H2SessionPool(IDLE_MS);
  const pool = {
    keepAlive: true,
    maxSockets: config.maxOriginConnections,
    maxFreeSockets: Math.min(config.maxOriginConnections, 32),
    // Reuse the most recently used socket so idle ones age out instead of all staying warm.
    scheduling: 'lifo' as const,
    timeout: IDLE_MS,
  };

  const keepTickets = (key: string, socket: TLSSocket): void => {
    socket.on('session', (ticket: Buffer) => remember(tickets, key, ticket));
  };

  const handshake = async (origin: OriginTarget, alpn: string[]): Promise<TLSSocket> => {
    const raw = await connector.dial(origin);
    const key = originKey(origin);
    let socket: TLSSocket;
    try {
      socket = connector.secure(raw, { servername: origin.servername, host: origin.host, ALPNProtocols: alpn, session: tickets.get(key) });
    } catch (error) {
      raw.destroy();
      throw error;
    }
    keepTickets(key, socket);
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        raw.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new MitmError('upstream_timeout', `the TLS handshake with ${formatAuthority(origin)} took longer than ${config.upstreamTimeout} ms`)),
        config.upstreamTimeout,
      );
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(socket);
      });
    });
  };

  /** A connection for HTTP/1.1 requests to `origin`: the parked spare if there is one, else a new one. */
  const openH1 = (origin: OriginTarget): Promise<TLSSocket> => {
    const key = originKey(origin);
    const spare = spares.get(key);
    if (spare) {
      spares.delete(key);
      spare.socket.off('timeout', spare.expire);
      spare.socket.setTimeout(0);
      return Promise.resolve(spare.socket);
    }
    // Only http/1.1 here: this origin chose it, and an h2 answer would be unusable in these pools.
    return handshake(origin, ['http/1.1']);
  };
  const plain = new PlainOriginAgent(pool, (options) => connector.dial(targetOf(options)));
  const secure = new TlsOriginAgent(pool, (options) =>
    openH1({ ...targetOf(options), secure: true, servername: typeof options.servername === 'string' ? options.servername : '' }),
  );
  // HTTP/1.1 TLS origins: undici for the requests it can carry, the agent for the rest (h1-undici.ts).
  const fastPools = new Map<string, ReturnType<typeof createUndiciPool>>();
  const h1 = (origin: OriginTarget, key: string, request: OriginRequest): OriginCall => {
    if (!fitsUndici(request)) return h1Call(secure, origin, request);
    let fast = fastPools.get(key);
    if (!fast) {
      fast = createUndiciPool(formatAuthority(origin), { connections: config.maxOriginConnections, idleMs: IDLE_MS, open: () => openH1(origin) });
      // The least recently created pool goes first, closed once its requests are done.
      remember(fastPools, key, fast, (evicted) => void evicted.pool.close());
    }
    return undiciCall(fast.pool, fast.peer, request);
  };

  /** Remembers the protocol a fresh connection chose; h2: its session joins the pool; http/1.1: the socket is returned. */
  const settle = async (origin: OriginTarget, key: string, socket: TLSSocket): Promise<'h2' | TLSSocket> => {
    const chosen = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
    remember(protocols, key, chosen);
    if (chosen === 'http/1.1') return socket;
    await sessions.open(key, socket, formatAuthority(origin), config.upstreamTimeout);
    return 'h2';
  };

  /**
   * Opens a new connection to a TLS origin offering h2 and http/1.1, once for all requests that
   * wait for it; remembers the choice. h2: the session joins the pool. http/1.1: the socket is
   * returned for the first waiter to claim.
   */
  const probe = (origin: OriginTarget, key: string): Promise<'h2' | TLSSocket> => {
    let pending = probes.get(key);
    if (pending) return pending;
    pending = handshake(origin, ALPN_OFFER).then((socket) => settle(origin, key, socket));
    probes.set(key, pending);
    const settled = (): void => {
      probes.delete(key);
    };
    pending.then(settled, settled);
    return pending;
  };

  /**
   * A stream on `session`. One the origin refused unprocessed (a GOAWAY raced it) goes once more,
   * on a fresh connection, when its body can be sent again (RFC 9113 §8.7).
   */
  const onSession = (session: ClientHttp2Session, origin: OriginTarget, key: string, request: OriginRequest, retried: boolean): OriginCall => {
    const call = h2Call(session, request, (stream) => sessions.track(session, stream));
    if (retried || !(request.bodyless || request.body.kind === 'bytes')) return call;
    return recover(call, (error) => (wasUnprocessed(error) ? deferred(route(origin, key, request, true)) : undefined));
  };

  /** Parks an http/1.1 probing socket for the agent; only the first of its waiters offers it. */
  const offer = (key: string, socket: TLSSocket): void => {
    if (offered.has(socket) || socket.destroyed) return;
    offered.add(socket);
    // Unclaimed (its request gave up meanwhile), it must not linger.
    const expire = (): void => {
      socket.destroy();
    };
    socket.setTimeout(IDLE_MS);
    socket.once('timeout', expire);
    // An origin that resets a waiting connection must not take the process down with an unheard error.
    socket.once('error', expire);
    socket.once('close', () => {
      if (spares.get(key)?.socket === socket) spares.delete(key);
    });
    spares.get(key)?.socket.destroy();
    spares.set(key, { socket, expire });
  };

  /** True while `key` has a connection open, parked or being opened: nothing more to open ahead. */
  const connecting = (key: string): boolean => sessions.get(key) !== undefined || spares.has(key) || probes.has(key);
  /** What a fresh connection settled to: an http/1.1 socket is parked for the request that follows. */
  const park = (key: string) => (outcome: 'h2' | TLSSocket): void => {
    if (outcome !== 'h2') offer(key, outcome);
  };

  /** Resolves to the call to make once the origin's protocol and connection are known. */
  const route = async (origin: OriginTarget, key: string, request: OriginRequest, retried: boolean): Promise<() => OriginCall> => {
    // Two tries: a session can close between its handshake and our first stream, but an origin
    // that keeps doing so gets a 502, not endless reconnects.
    for (let attempt = 0; ; attempt += 1) {
      const session = sessions.get(key);
      if (session) return () => onSession(session, origin, key, request, retried);
      if (protocols.get(key) === 'http/1.1') return () => h1(origin, key, request);
      if (attempt === 2) throw Object.assign(new Error('the HTTP/2 session closed as soon as it opened'), { code: 'ECONNRESET' });
      const outcome = await probe(origin, key);
      if (outcome === 'h2') continue;
      // Waiters after the first find the socket claimed and open their own through the pools.
      offer(key, outcome);
      return () => h1(origin, key, request);
    }
  };

  return {
    request(origin, request) {
      if (!origin.secure) return h1Call(plain, origin, request);
      const key = originKey(origin);
      if (protocols.get(key) === 'http/1.1') return h1(origin, key, request);
      const session = sessions.get(key);
      if (session) return onSession(session, origin, key, request, false);
      // Listeners the caller attached (recording, timers) would set the body flowing before
      // anything is piped from it: hold it until the call starts (its pipe resumes it).
      if (request.body.kind === 'stream') request.body.stream.pause();
      return deferred(route(origin, key, request, false));
    },
    adopt(origin, socket) {
      const key = originKey(origin);
      if (socket.destroyed || connecting(key)) {
        socket.destroy();
        return;
      }
      keepTickets(key, socket);
      settle(origin, key, socket).then(park(key), () => socket.destroy());
    },
    prepare(origin) {
      const key = originKey(origin);
      if (!origin.secure || protocols.has(key) || connecting(key)) return;
      probe(origin, key).then(park(key), () => undefined);
    },
    close() {
      plain.destroy();
      secure.destroy();
      for (const fast of fastPools.values()) void fast.pool.destroy();
      fastPools.clear();
      sessions.close();
      for (const spare of spares.values()) spare.socket.destroy();
      spares.clear();
    },
  };
}

/** Identifies an origin for pooling and the remembered ALPN choice. */
function originKey(origin: OriginTarget): string {
  return `${formatAuthority(origin)}/${origin.servername}`;
}

function targetOf(options: { host?: string | null | undefined; port?: string | number | null | undefined }): Target {
  return { host: String(options.host), port: Number(options.port) };
}

/** Sets `key` in a map that keeps the MAX_REMEMBERED most recently set keys; `evicted` gets what falls out. */
function remember<T>(map: Map<string, T>, key: string, value: T, evicted?: (value: T) => void): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.entries().next();
    if (oldest.done) return;
    map.delete(oldest.value[0]);
    evicted?.(oldest.value[1]);
  }
}

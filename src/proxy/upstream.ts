// The origin side: TLS session #2 (or plain HTTP), HTTP/2 or HTTP/1.1 as each origin chooses.
// A TLS origin is offered ALPN ['h2', 'http/1.1'] on its first connection and the answer is
// remembered (per host, port and SNI name): h2 origins then share one pooled session with many
// streams (origin-pool.ts, h2-origin.ts), the others keep-alive HTTP/1.1 agents (h1-origin.ts).
// Every connection is opened by the `OriginConnector`, the one seam for upstream proxies and
// client certificates; the default one dials directly and verifies with `trust`.
import { connect as netConnect } from 'node:net';
import type { Readable, Duplex } from 'node:stream';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';
import { MitmError } from '../errors.js';
import type { OutgoingBody } from '../flow/body.js';
import { h1Call, PlainOriginAgent, TlsOriginAgent } from './h1-origin.js';
import { h2Call } from './h2-origin.js';
import { H2SessionPool } from './origin-pool.js';
import { formatAuthority, type Target } from './target.js';

/** An origin as the upstream side dials it. */
export interface OriginTarget extends Target {
  /** Speak TLS to the origin. */
  readonly secure: boolean;
  /** SNI and the name the origin's certificate must carry; '' for an IP literal with no name. */
  readonly servername: string;
}

/** One request for an origin, whichever protocol carries it. */
export interface OriginRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Flat raw header list, Host included, framing already restated (framing.ts). */
  readonly headers: string[];
  readonly body: OutgoingBody;
  /** The request has no body at all; an HTTP/2 stream then ends with its HEADERS frame. */
  readonly bodyless: boolean;
  /** The request's trailer fields (raw list), read once the body has ended. */
  readonly trailers: () => readonly string[];
  /** The client sent `TE: trailers`: passed on to HTTP/2 origins, where gRPC servers require it. */
  readonly trailersAccepted: boolean;
  /** Told the origin's address once the connection carrying the request is known. */
  readonly onPeer: (peer: { address: string; port: number }) => void;
}

/** An origin's response head and its body stream. */
export interface OriginResponse {
  readonly status: number;
  /** The reason phrase; HTTP/2 has none. */
  readonly statusMessage: string | undefined;
  readonly rawHeaders: readonly string[];
  /** '1.1' or '2.0'. */
  readonly httpVersion: string;
  readonly body: Readable;
  /** Trailer fields (raw list), complete once `body` has ended. */
  readonly trailers: () => readonly string[];
}

/** A request under way. */
export interface OriginCall {
  /** The response head; rejects with the Node/OpenSSL error (classified by upstream-error.ts) or a MitmError. */
  readonly response: Promise<OriginResponse>;
  /** Abandons the request and frees its connection or stream; `error` becomes the rejection when the head has not come. */
  destroy(error?: Error): void;
}

/** Pooled connections to origins, shared by every client. */
export interface Upstream {
  /** Starts `request` to `origin`. */
  request(origin: OriginTarget, request: OriginRequest): OriginCall;
  /** Destroys every pooled connection and session. */
  close(): void;
}

/**
 * Opens connections to origins: the seam for upstream proxies (`dial`) and client certificates
 * (`secure`). Every origin connection the upstream makes starts in `dial`.
 */
export interface OriginConnector {
  /** A connected byte stream to `target`; rejects with a connect error or a MitmError naming the origin. */
  dial(target: Target): Promise<Duplex>;
  /** TLS over `socket`, verified against the origin trust unless --insecure; '' servername means none (IP literal). */
  secure(socket: Duplex, options: { servername: string; host: string; ALPNProtocols?: string[] | undefined }): TLSSocket;
}

// Idle pooled connections and sessions are closed after this; active ones are policed by exchange.ts.
const IDLE_MS = 60_000;
// Origins whose ALPN choice is remembered; the oldest is forgotten first (it is only re-probed).
const MAX_REMEMBERED = 1000;
const ALPN_OFFER = ['h2', 'http/1.1'];

/** Creates the origin side, bounded per origin, opening connections with `connector`. */
export function createUpstream(config: ProxyConfig, trust: SecureContext, connector = directConnector(config, trust)): Upstream {
  const protocols = new Map<string, 'h2' | 'http/1.1'>();
  // A socket whose handshake chose http/1.1, waiting for the agent to take it for the request that opened it.
  const spares = new Map<string, TLSSocket>();
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

  const handshake = async (origin: OriginTarget, alpn: string[]): Promise<TLSSocket> => {
    const raw = await connector.dial(origin);
    const socket = connector.secure(raw, { servername: origin.servername, host: origin.host, ALPNProtocols: alpn });
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
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

  const plain = new PlainOriginAgent(pool, (options) => connector.dial(targetOf(options)));
  const secure = new TlsOriginAgent(pool, (options) => {
    const origin = { ...targetOf(options), secure: true, servername: typeof options.servername === 'string' ? options.servername : '' };
    const key = originKey(origin);
    const spare = spares.get(key);
    if (spare) {
      spares.delete(key);
      return Promise.resolve(spare);
    }
    // Only http/1.1 here: this origin chose it, and an h2 answer would be unusable on this agent.
    return handshake(origin, ['http/1.1']);
  });

  /**
   * Opens a new connection to a TLS origin offering h2 and http/1.1, once for all requests that
   * wait for it; remembers the choice. h2: the session joins the pool. http/1.1: the socket is
   * returned for the first waiter to claim.
   */
  const probe = (origin: OriginTarget, key: string): Promise<'h2' | TLSSocket> => {
    let pending = probes.get(key);
    if (pending) return pending;
    pending = (async () => {
      const socket = await handshake(origin, ALPN_OFFER);
      const chosen = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
      remember(protocols, key, chosen);
      if (chosen === 'http/1.1') return socket;
      await sessions.open(key, socket, formatAuthority(origin), config.upstreamTimeout);
      return 'h2' as const;
    })();
    probes.set(key, pending);
    const settled = (): void => {
      probes.delete(key);
    };
    pending.then(settled, settled);
    return pending;
  };

  /** Resolves to the call to make once the origin's protocol and connection are known. */
  const route = async (origin: OriginTarget, key: string, request: OriginRequest): Promise<() => OriginCall> => {
    for (;;) {
      const session = sessions.get(key);
      if (session) return () => h2Call(session, request, (stream) => sessions.track(session, stream));
      if (protocols.get(key) === 'http/1.1') return () => h1Call(secure, origin, request);
      const outcome = await probe(origin, key);
      if (outcome === 'h2') continue;
      // Waiters after the first find the socket claimed and open their own through the agent.
      if (!outcome.destroyed && !spares.has(key)) {
        spares.set(key, outcome);
        // Unclaimed (its request gave up meanwhile), it must not linger.
        outcome.setTimeout(IDLE_MS, () => outcome.destroy());
        outcome.once('close', () => {
          if (spares.get(key) === outcome) spares.delete(key);
        });
      }
      return () => {
        outcome.setTimeout(0);
        return h1Call(secure, origin, request);
      };
    }
  };

  return {
    request(origin, request) {
      if (!origin.secure) return h1Call(plain, origin, request);
      const key = originKey(origin);
      if (protocols.get(key) === 'http/1.1') return h1Call(secure, origin, request);
      const session = sessions.get(key);
      if (session) return h2Call(session, request, (stream) => sessions.track(session, stream));
      // Listeners the caller attached (recording, timers) would set the body flowing before
      // anything is piped from it: hold it until the call starts (its pipe resumes it).
      if (request.body.kind === 'stream') request.body.stream.pause();
      return deferred(route(origin, key, request));
    },
    close() {
      plain.destroy();
      secure.destroy();
      sessions.close();
      for (const socket of spares.values()) socket.destroy();
      spares.clear();
    },
  };
}

/** The default connector: TCP straight to the origin, TLS verified with `trust` unless --insecure. */
export function directConnector(config: ProxyConfig, trust: SecureContext): OriginConnector {
  return {
    dial: (target) => connectOrigin(target, config.upstreamTimeout),
    secure: (socket, options) =>
      tlsConnect({
        socket,
        // '' means no SNI (an IP literal); Node then checks the certificate against `host`.
        servername: options.servername,
        host: options.host,
        secureContext: trust,
        rejectUnauthorized: !config.insecure,
        ...(options.ALPNProtocols ? { ALPNProtocols: options.ALPNProtocols } : {}),
      }),
  };
}

/** Opens a TCP connection to `target`, resolving once connected; `upstream_timeout` after `timeoutMs`. */
export function connectOrigin(target: Target, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MitmError('upstream_timeout', `connecting to ${formatAuthority(target)} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** A call whose connection is still being made: destroying it early rejects at once and drops what arrives later. */
function deferred(making: Promise<() => OriginCall>): OriginCall {
  let call: OriginCall | undefined;
  let abandoned: Error | undefined;
  let reject: (error: Error) => void = () => undefined;
  const response = new Promise<OriginResponse>((resolve, fail) => {
    reject = fail;
    making.then(
      (start) => {
        if (abandoned) return;
        call = start();
        call.response.then(resolve, fail);
      },
      fail,
    );
  });
  response.catch(() => undefined);
  return {
    response,
    destroy(error) {
      if (call) {
        call.destroy(error);
        return;
      }
      abandoned = error ?? new Error('the request was abandoned');
      reject(abandoned);
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

function remember(protocols: Map<string, 'h2' | 'http/1.1'>, key: string, protocol: 'h2' | 'http/1.1'): void {
  protocols.delete(key);
  protocols.set(key, protocol);
  if (protocols.size > MAX_REMEMBERED) {
    const oldest = protocols.keys().next();
    if (!oldest.done) protocols.delete(oldest.value);
  }
}

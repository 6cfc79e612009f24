import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { CertCache } from '../ca/cert-cache.js';
import type { ProxyConfig } from '../config/schema.js';
import type { ProxyEventMap } from './events.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import type { ExchangeDeps } from './exchange.js';
import type { HostDecision } from './host-policy.js';
import type { Target } from './target.js';

/** What the proxy knows about a connection that arrived through a CONNECT tunnel it intercepts. */
export interface TunnelSession {
  /** The CONNECT target: every request on this connection goes there, whatever its Host header says. */
  readonly target: Target;
  /** The client spoke TLS inside the tunnel (so the origin gets TLS too). */
  readonly secure: boolean;
  /** SNI the client sent, else ''. Used as the origin's SNI and the name its certificate must carry. */
  readonly servername: string;
  readonly client: { readonly address: string; readonly port: number };
}

/** Shared state of one running proxy, handed to the connection and request handlers. */
export interface ProxyRuntime {
  readonly config: ProxyConfig;
  readonly certs: CertCache;
  readonly exchangeDeps: ExchangeDeps;
  readonly hooks: HookPipeline;
  /** Decides intercept or tunnel for a CONNECT host. */
  readonly decide: (host: string) => HostDecision;
  /** True when a target is this proxy's own listening address (a request loop). */
  readonly isSelf: (target: Target) => boolean;
  /** Hands a tunnelled connection to the HTTP parser; its requests are resolved via `sessions`. */
  readonly serveHttp: (socket: Duplex, session: TunnelSession) => void;
  /** The tunnel session of each connection that came through CONNECT. */
  readonly sessions: WeakMap<object, TunnelSession>;
  /** Registers a socket to be destroyed when the proxy closes. */
  readonly track: (socket: Duplex) => void;
  readonly emit: EventEmitter<ProxyEventMap>['emit'];
  /** Next flow id. */
  readonly nextId: () => number;
  /** A stable sequence number for a client connection (the same for every request on it). */
  readonly connectionId: (socket: object) => number;
}

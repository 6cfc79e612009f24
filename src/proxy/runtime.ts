import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../ca/authority.js';
import type { CertCache } from '../ca/cert-cache.js';
import type { ProxyConfig } from '../config/schema.js';
import type { ProxyEventMap } from '../events.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import type { CertSniffer } from '../tls/cert-sniff.js';
import type { Dialer } from '../origin/dial/dial.js';
import type { ExchangeDeps } from '../exchange/exchange.js';
import type { HostDecision } from '../inbound/host-policy.js';
import type { PinnedClients } from '../tls/pinned-clients.js';
import type { ProxyAuth } from '../inbound/proxy-auth.js';
import type { Target } from '../net/target.js';

/** What the proxy knows about a connection that arrived through a CONNECT tunnel it intercepts. */
export interface TunnelSession {
  /** The CONNECT target: every request on this connection goes there, whatever its Host header says. */
  readonly target: Target;
  /** The client spoke TLS inside the tunnel (so the origin gets TLS too). */
  readonly secure: boolean;
  /** SNI the client sent, else ''. Used as the origin's SNI and the name its certificate must carry. */
  readonly servername: string;
  /** Who opened the tunnel; `user` is the proxy user its CONNECT (or SOCKS5 handshake) authenticated as. */
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
}

/** Shared state of one running proxy, handed to the connection and request handlers. */
export interface ProxyRuntime {
  readonly config: ProxyConfig;
  /** The root CA, handed out by the landing page (landing.ts). */
  readonly ca: CertificateAuthority;
  readonly certs: CertCache;
  /** Opens every connection towards origins: directly or through --upstream-proxy (dial.ts). */
  readonly dialer: Dialer;
  /** Checks proxy credentials; undefined when --proxy-auth is not set. */
  readonly auth: ProxyAuth | undefined;
  /** Client→host pairs tunnelled untouched after refusing our certificate; undefined without --auto-passthrough. */
  readonly pinned: PinnedClients | undefined;
  /** Reads origin certificate names for IP-literal CONNECTs (cert-sniff.ts). */
  readonly sniffer: CertSniffer;
  readonly exchangeDeps: ExchangeDeps;
  readonly hooks: HookPipeline;
  /** Decides intercept or tunnel for a CONNECT host. */
  readonly decide: (host: string) => HostDecision;
  /** True when a target is this proxy's own listening address (a request loop). */
  readonly isSelf: (target: Target) => boolean;
  /** Hands a tunnelled connection to the HTTP parser; its requests are resolved via `sessions`. */
  readonly serveHttp: (socket: Socket, session: TunnelSession) => void;
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

import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../ca/authority.js';
import type { CertCache } from '../ca/cert-cache.js';
import type { MitmError } from '../errors.js';
import type { ProxyEventMap } from '../events.js';
import type { ExchangeDeps } from '../exchange/exchange.js';
import type { FlowClient } from '../flow/flow.js';
import type { ClientTlsFacts } from '../flow/tls-facts.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import type { Target } from '../net/target.js';
import type { Dialer } from '../origin/dial.js';
import type { CertSniffer } from './cert-sniff.js';
import type { PinnedClients } from './pinned-clients.js';

/** What the proxy knows about a connection that arrived through a CONNECT tunnel it intercepts. */
export interface TunnelSession {
  /** The CONNECT target: every request on this connection goes there, whatever its Host header says. */
  readonly target: Target;
  /** The client spoke TLS inside the tunnel (so the origin gets TLS too). */
  readonly secure: boolean;
  /** SNI the client sent, else ''. Used as the origin's SNI and the name its certificate must carry. */
  readonly servername: string;
  /**
   * Send the origin's authority as Host instead of the client's (a reverse listener without
   * --keep-host: the client named the proxy, the origin expects its own name).
   */
  readonly rewriteHost?: boolean;
  /**
   * Every request on this connection is answered with this error and never forwarded (a
   * transparent connection whose destination is the proxy itself: `loop`).
   */
  readonly refusal?: MitmError;
  /** Who opened the tunnel; `user` is the proxy user its CONNECT (or SOCKS5 handshake) authenticated as. */
  readonly client: FlowClient;
  /** What the client's TLS handshake with us negotiated; absent when it spoke plain HTTP. */
  readonly tls?: ClientTlsFacts | undefined;
}

/** What the client-facing TLS session needs of the running proxy (the inbound runtime extends it). */
export interface TlsRuntime {
  /** The root CA: its folder names the file a client must trust, in messages. */
  readonly ca: CertificateAuthority;
  readonly certs: CertCache;
  /** Opens every connection towards origins: directly or through --upstream-proxy (dial.ts). */
  readonly dialer: Dialer;
  /** Client→host pairs tunnelled untouched after refusing our certificate; undefined without --auto-passthrough. */
  readonly pinned: PinnedClients | undefined;
  /** Reads origin certificate names for IP-literal CONNECTs (cert-sniff.ts). */
  readonly sniffer: CertSniffer;
  readonly exchangeDeps: ExchangeDeps;
  readonly hooks: HookPipeline;
  /** True when a target is this proxy's own listening address (a request loop). */
  readonly isSelf: (target: Target) => boolean;
  /** Hands a tunnelled connection to the HTTP parser; its requests are resolved via `sessions`. */
  readonly serveHttp: (socket: Socket, session: TunnelSession) => void;
  /** Registers a socket to be destroyed when the proxy closes. */
  readonly track: (socket: Duplex) => void;
  readonly emit: EventEmitter<ProxyEventMap>['emit'];
}

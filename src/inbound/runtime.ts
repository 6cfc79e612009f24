import type { ProxyConfig } from '../config/schema.js';
import type { HostDecision } from './host-policy.js';
import type { ProxyAuth } from './proxy-auth.js';
import type { TlsRuntime, TunnelSession } from '../tls/tls-runtime.js';

export type { TunnelSession } from '../tls/tls-runtime.js';

/** Shared state of one running proxy, handed to the connection and request handlers. */
export interface ProxyRuntime extends TlsRuntime {
  readonly config: ProxyConfig;
  /** Checks proxy credentials; undefined when --proxy-auth is not set. */
  readonly auth: ProxyAuth | undefined;
  /** Decides intercept or tunnel for a CONNECT host. */
  readonly decide: (host: string) => HostDecision;
  /** The tunnel session of each connection that came through CONNECT. */
  readonly sessions: WeakMap<object, TunnelSession>;
  /** Next flow id. */
  readonly nextId: () => number;
  /** A stable sequence number for a client connection (the same for every request on it). */
  readonly connectionId: (socket: object) => number;
}

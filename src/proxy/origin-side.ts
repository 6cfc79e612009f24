import type http from 'node:http';
import type { ProxyConfig } from '../config/schema.js';
import { createOriginConnector, forwardPlainHttp } from '../origin/origin-agents.js';
import { createUpstream, type OriginConnector, type Upstream } from '../origin/upstream.js';
import { createCertSniffer, type CertSniffer } from '../tls/cert-sniff.js';
import type { Connectivity } from './connectivity.js';

/** Everything that faces origins, built once at start. */
export interface OriginSide {
  /** Opens every origin connection (pooled, WebSocket, sniffing): dial, then TLS. */
  readonly connector: OriginConnector;
  /** Sends requests to origins; closed with the proxy. */
  readonly upstream: Upstream;
  /** Reads origin certificate names for IP-literal CONNECTs (cert-sniff.ts). */
  readonly sniffer: CertSniffer;
}

/**
 * Builds the origin side: every connection goes through the dialer and the per-origin TLS
 * contexts, which is where --upstream-proxy, --upstream-bypass and --client-cert plug in (connectivity.ts).
 * `closing` (aborted by close()) abandons the sniffer's dials.
 */
export function createOriginSide(config: ProxyConfig, reach: Connectivity, closing: AbortSignal): OriginSide {
  const dialing = {
    dialer: reach.dialer,
    contexts: reach.originContexts,
    insecure: config.insecure,
    timeoutMs: config.upstreamTimeout,
  };
  const connector = createOriginConnector(dialing);
  const upstream = forwardPlainHttp(createUpstream(config, connector), reach.dialer, plainHttpPool(config), config.upstreamTimeout);
  // The sniffing connection then serves the tunnel's first request instead of being wasted.
  const sniffer = createCertSniffer({ ...dialing, handOver: (origin, socket) => upstream.adopt(origin, socket), closing });
  return { connector, upstream, sniffer };
}

/** Pool limits for plain-HTTP requests sent to an http(s) upstream proxy, as upstream.ts sets them per origin. */
function plainHttpPool(config: ProxyConfig): http.AgentOptions {
  return {
    keepAlive: true,
    maxSockets: config.maxOriginConnections,
    maxFreeSockets: Math.min(config.maxOriginConnections, 32),
    scheduling: 'lifo',
    timeout: 60_000,
  };
}

// The start-up pieces of issue 16 that sit round the engine: the admission gate, the per-connection
// limits, and the optional metrics (with the minter, cache and dialer they observe).
import type { CertCache } from '../ca/cert-cache.js';
import type { LeafMinter } from '../ca/mint-leaf.js';
import { parseListenAddress } from '../config/listen-address.js';
import type { ProxyConfig } from '../config/schema.js';
import { Admission } from '../inbound/admission.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { createAddressList } from '../net/cidr.js';
import { defaultMaxConnections } from '../net/fd-limit.js';
import type { FrontLimits } from './client-front.js';
import type { Connectivity } from './connectivity.js';
import type { ProxyHandle } from './proxy-handle.js';

/** The client front's limits and admission gate from the options; refusals are emitted as `client-refused`. */
export function frontLimits(config: ProxyConfig, proxy: ProxyHandle): FrontLimits {
  const allow = config.allowClient.length === 0 ? undefined : createAddressList(config.allowClient);
  const admission = new Admission(
    { allow, maxConnections: config.maxConnections ?? defaultMaxConnections(), maxPerClient: config.maxClientConnections },
    (refusal) => proxy.emit('client-refused', refusal),
  );
  return {
    maxHeaderSize: config.maxHeaderSize,
    maxHeaders: config.maxHeaders,
    headersTimeout: config.headersTimeout,
    idleTimeout: config.idleTimeout,
    maxRequestsPerConnection: config.maxRequestsPerConnection,
    admission,
  };
}

/** Metrics wiring: undefined parts when `--metrics` is off, so nothing is wrapped or counted. */
export interface Observed {
  readonly metrics: ProxyMetrics | undefined;
  readonly minter: LeafMinter;
  readonly wrapCache: (cache: CertCache) => CertCache;
  readonly reach: Connectivity;
}

/** Wraps the minter and dialer for metrics when `--metrics` is set; `front` is read at scrape time. */
export async function observe(
  config: ProxyConfig,
  parts: { minter: LeafMinter; reach: Connectivity; front: () => { connections: number; clientBytes: { in: number; out: number } } },
): Promise<Observed> {
  if (config.metrics === undefined) return { metrics: undefined, minter: parts.minter, wrapCache: (cache) => cache, reach: parts.reach };
  // prom-client is loaded only when metrics are asked for (start-up time, docs/performance.md).
  const { createProxyMetrics } = await import('../metrics/proxy-metrics.js');
  const metrics = createProxyMetrics({ clientConnections: () => parts.front().connections, clientBytes: () => parts.front().clientBytes });
  return {
    metrics,
    minter: metrics.instrumentMinter(parts.minter),
    wrapCache: (cache) => metrics.instrumentCertCache(cache),
    reach: { ...parts.reach, dialer: metrics.instrumentDialer(parts.reach.dialer) },
  };
}

/** Subscribes `metrics` to the proxy's events and starts its listener. */
export async function serveMetrics(config: ProxyConfig, metrics: ProxyMetrics, proxy: ProxyHandle): Promise<MetricsServer> {
  proxy.on('flow', (record) => metrics.flow(record));
  proxy.on('tunnel', (record) => metrics.tunnel(record));
  proxy.on('client-issue', (issue) => metrics.clientIssue(issue));
  proxy.on('client-refused', (refusal) => metrics.clientRefused(refusal));
  const allow = config.allowClient.length === 0 ? undefined : createAddressList(config.allowClient);
  const { startMetricsServer } = await import('../metrics/metrics-server.js');
  return startMetricsServer(metrics.registry, parseListenAddress(config.metrics ?? '0'), allow);
}

// What `--metrics` publishes (Prometheus text format, through prom-client on a registry of our own,
// never the process-global one a host application may use). Fed by the proxy's events and by thin
// wrappers round the leaf minter, the certificate cache and the origin dialer.
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Socket } from 'node:net';
import type { CertCache } from '../ca/cert-cache.js';
import type { LeafMinter } from '../ca/mint-leaf.js';
import type { ClientIssue, ClientRefusal, FlowRecord, TunnelRecord } from '../events.js';
import type { Dialer } from '../origin/dial.js';

/** Live figures the metrics read when scraped. */
export interface MetricSources {
  readonly clientConnections: () => number;
  readonly clientBytes: () => { readonly in: number; readonly out: number };
}

/** The proxy's metrics: record functions for events, wrappers for the parts that mint and dial, and the registry. */
export interface ProxyMetrics {
  readonly registry: Registry;
  flow(record: FlowRecord): void;
  tunnel(record: TunnelRecord): void;
  clientIssue(issue: ClientIssue): void;
  clientRefused(refusal: ClientRefusal): void;
  /** `minter` with each mint counted and timed. */
  instrumentMinter(minter: LeafMinter): LeafMinter;
  /** `cache` with each lookup counted (a lookup that started no mint is a hit). */
  instrumentCertCache(cache: CertCache): CertCache;
  /** `dialer` with each origin connection counted while open. */
  instrumentDialer(dialer: Dialer): Dialer;
  /** Stops the event-loop delay monitor. */
  stop(): void;
}

// TLS alerts and failures a client reports, kept to a fixed set so the label stays small.
const CLIENT_TLS_REASONS = [
  'unknown_ca',
  'bad_certificate',
  'certificate_unknown',
  'handshake_failure',
  'protocol_version',
  'no_shared_cipher',
  'wrong_version_number',
  'invalid_host',
  'hang_up',
] as const;

/** The reason label of a client handshake failure, from its message (`TLS alert: unknown CA` → `unknown_ca`). */
function clientTlsReason(message: string): string {
  const words = message.toLowerCase().replaceAll(/[\s-]+/g, '_');
  return CLIENT_TLS_REASONS.find((reason) => words.includes(reason)) ?? 'other';
}

/** Creates the metrics of one proxy; `sources` are read at scrape time. */
export function createProxyMetrics(sources: MetricSources): ProxyMetrics {
  const registry = new Registry();
  const registers = [registry];
  const flows = new Counter({
    name: 'mitm_flows_total',
    help: 'Finished flows by response status class (none: no response was sent)',
    labelNames: ['status_class'],
    registers,
  });
  const originErrors = new Counter({
    name: 'mitm_origin_errors_total',
    help: 'Flows and CONNECTs that failed towards the origin, by error code',
    labelNames: ['code'],
    registers,
  });
  const tlsFailures = new Counter({
    name: 'mitm_tls_handshake_failures_total',
    help: 'Failed TLS handshakes by side (client, origin) and reason',
    labelNames: ['side', 'reason'],
    registers,
  });
  const refused = new Counter({
    name: 'mitm_client_connections_refused_total',
    help: 'Client connections refused as accepted (--allow-client, connection limits)',
    labelNames: ['reason'],
    registers,
  });
  const mints = new Counter({ name: 'mitm_leaf_mints_total', help: 'Leaf certificates minted', registers });
  let lookups = 0;
  let minted = 0;
  new Counter({
    name: 'mitm_leaf_cache_hits_total',
    help: 'Certificate lookups served without a new mint',
    registers,
    collect() {
      this.reset();
      this.inc(Math.max(0, lookups - minted));
    },
  });
  const mintSeconds = new Histogram({
    name: 'mitm_leaf_mint_seconds',
    help: 'Time to mint a leaf certificate',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  new Gauge({
    name: 'mitm_client_connections',
    help: 'Client connections open',
    registers,
    collect() {
      this.set(sources.clientConnections());
    },
  });
  let originOpen = 0;
  new Gauge({
    name: 'mitm_origin_connections',
    help: 'Origin connections open (direct or through the upstream proxy)',
    registers,
    collect() {
      this.set(originOpen);
    },
  });
  new Counter({
    name: 'mitm_client_bytes_total',
    help: 'Bytes on client connections by direction (in: from clients, out: to clients), TLS records included',
    labelNames: ['direction'],
    registers,
    collect() {
      const bytes = sources.clientBytes();
      this.reset();
      this.inc({ direction: 'in' }, bytes.in);
      this.inc({ direction: 'out' }, bytes.out);
    },
  });
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  new Gauge({
    name: 'mitm_event_loop_delay_seconds',
    help: 'Event-loop delay since the last scrape, by quantile (and max)',
    labelNames: ['quantile'],
    registers,
    collect() {
      // Before the first sample the histogram reports NaN percentiles and an absurd min.
      const seconds = (ns: number): number => (Number.isFinite(ns) && loop.count > 0 ? ns / 1e9 : 0);
      this.set({ quantile: '0.5' }, seconds(loop.percentile(50)));
      this.set({ quantile: '0.99' }, seconds(loop.percentile(99)));
      this.set({ quantile: 'max' }, seconds(loop.max));
      loop.reset();
    },
  });

  const tlsOrigin = (code: string): void => {
    if (code === 'upstream_tls_verify') tlsFailures.inc({ side: 'origin', reason: 'verify' });
    if (code === 'upstream_tls') tlsFailures.inc({ side: 'origin', reason: 'handshake' });
  };
  return {
    registry,
    flow(record) {
      flows.inc({ status_class: record.status === undefined ? 'none' : `${Math.floor(record.status / 100)}xx` });
      const code = record.error?.code;
      if (code?.startsWith('upstream_') === true) {
        originErrors.inc({ code });
        tlsOrigin(code);
      }
    },
    tunnel(record) {
      if (record.error === undefined) return;
      originErrors.inc({ code: record.error.code });
      tlsOrigin(record.error.code);
    },
    clientIssue(issue) {
      if (issue.code !== 'client_tls') return;
      tlsFailures.inc({ side: 'client', reason: clientTlsReason(issue.message) });
    },
    clientRefused(refusal) {
      refused.inc({ reason: refusal.reason });
    },
    instrumentMinter(minter) {
      return {
        async mint(host, extraNames) {
          const started = performance.now();
          const leaf = await minter.mint(host, extraNames);
          mintSeconds.observe((performance.now() - started) / 1000);
          mints.inc();
          minted++;
          return leaf;
        },
      };
    },
    instrumentCertCache(cache) {
      return {
        get(host, extraNames) {
          lookups++;
          return cache.get(host, extraNames);
        },
        get size() {
          return cache.size;
        },
      };
    },
    instrumentDialer(dialer) {
      const count = async (dialled: Promise<Socket>): Promise<Socket> => {
        const socket = await dialled;
        originOpen++;
        socket.once('close', () => originOpen--);
        return socket;
      };
      return {
        get proxy() {
          return dialer.proxy;
        },
        route: (target) => dialer.route(target),
        dial: (target, options) => count(dialer.dial(target, options)),
        dialProxy: (proxy, origin, options) => count(dialer.dialProxy(proxy, origin, options)),
      };
    },
    stop() {
      loop.disable();
    },
  };
}

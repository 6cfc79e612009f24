import { initCa, type CertificateAuthority } from '../ca/authority.js';
import { createCertCache } from '../ca/cert-cache.js';
import { createLeafMinter } from '../ca/mint-leaf.js';
import { warmUpX509 } from '../ca/x509.js';
import { loadFastPath } from '../origin/h1-pools.js';
import { parseProxyOptions } from '../config/load.js';
import { parseDnsUpstream, parseMode, type ListenerInfo, type ModeSpec } from '../config/modes.js';
import type { ProxyConfig, ProxyOptions } from '../config/schema.js';
import { loadHookFile } from '../hooks/load-hook-file.js';
import { MitmError } from '../errors.js';
import type { Hook } from '../hooks/types.js';
import type { OriginLookup } from '../origin/dial.js';
import { FlowStore } from '../record/flow-store.js';
import { openProxyStore } from './open-proxy-store.js';
import { buildRuntime } from './build-runtime.js';
import { ClientFront, type DnsSettings } from './client-front.js';
import { loadConnectivity, type Connectivity } from './connectivity.js';
import { createOriginSide } from './origin-side.js';
import { hooksFromOptions, replayFromOptions } from './flag-hooks.js';
import { frontLimits, observe, serveMetrics } from './guards.js';
import { ProxyHandle, type RunningProxy } from './proxy-handle.js';
import { checkKeyMode } from '../ca/key-mode.js';
import { checkExposure } from '../config/exposure.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { closingController } from '../net/closing.js';

/** What `startProxy` accepts: every option of the schema, plus hooks (code, so not in the schema). */
export interface StartOptions extends ProxyOptions {
  /** Hooks to run on every flow, in this order, before any loaded with `hook` files or added by `use`. */
  readonly hooks?: readonly Hook[];
  /**
   * Resolves origin host names for every dial (default: the system's resolver); `resolve`
   * entries are looked up first. For embedders and tests with a DNS server of their own.
   */
  readonly lookup?: OriginLookup;
}

/**
 * Starts the proxy: loads or creates the CA (in `ca`, by default the per-user folder, see
 * config/schema.ts), then listens (port 0 picks a free port).
 */
export async function startProxy(options: StartOptions = {}): Promise<RunningProxy> {
  const { hooks = [], lookup, ...schemaOptions } = options;
  const config = parseProxyOptions(schemaOptions);
  checkExposure(config);
  // The listeners exist only later; a dial that reaches one of them (a name resolving to the proxy) is a loop.
  const own: { front?: ClientFront } = {};
  const { ca, reach: loaded } = await loadCaAndConnectivity(
    config,
    lookup,
    (address, port) => own.front?.ownsEndpoint(address, port) ?? false,
  );
  if (!config.allowInsecureKey) await checkKeyMode(config.ca);
  const { metrics, minter, wrapCache, reach } = await observe(config, {
    minter: await createLeafMinter(ca, config.leafKey),
    reach: loaded,
    front: () => front,
  });
  const certs = wrapCache(createCertCache(minter, { max: config.leafCacheSize }));
  const store = new FlowStore(config.keep);
  // A bad --store path stops start-up before we listen; its write errors become 'store-error' events.
  const session = await openProxyStore(config, (record) => proxy.emit('store-error', record));
  const proxy = new ProxyHandle({ config, caCertPem: ca.certPem, store, session });
  try {
    // A bad hook file stops start-up before we listen.
    await addHooks(proxy, hooks, config);
  } catch (error) {
    await session?.close();
    throw error;
  }
  // Aborted by close(): origin dials outside the upstream's pools (WebSockets, certificate sniffing) are abandoned.
  const closing = closingController();
  const origins = createOriginSide(config, reach, closing.signal);
  const front = new ClientFront(frontLimits(config, proxy));
  own.front = front;
  front.route(buildRuntime({ config, ca, certs, reach, origins, store, session, proxy, front }), origins.connector, closing.signal);
  let listeners: readonly ListenerInfo[];
  let metricsServer: MetricsServer | undefined;
  try {
    listeners = await front.listen(modesOf(config), config, await dnsSettings(config));
    if (metrics !== undefined) metricsServer = await serveMetrics(config, metrics, proxy);
  } catch (error) {
    metrics?.stop();
    reach.pinned?.stop();
    closing.abort();
    await front.close();
    origins.upstream.close();
    await session?.close();
    throw error;
  }
  proxy.attach({
    listeners,
    get connections() {
      return front.connections;
    },
    metricsUrl: metricsServer?.url,
    drain: () => front.drain(),
    close: async () => {
      metrics?.stop();
      const metricsClosed = metricsServer?.close();
      reach.pinned?.stop();
      closing.abort();
      const closed = front.close();
      origins.upstream.close();
      await Promise.all([closed, metricsClosed]);
    },
  });
  warmUp(closing.signal, [
    // Loaded after listening rather than before (start-up time): the first client's certificate
    // needs forge (x509.ts), its first origin connection the trust context (origin-trust.ts), its
    // first HTTP/1.1 TLS request undici (h1-pools.ts; a failure to load shows on that request),
    // its first WebSocket or SOCKS5 connection their handlers.
    warmUpX509,
    () => void reach.trust(),
    () => void loadFastPath().catch(() => undefined),
    // The WebSocket relay and SOCKS5 (client-front.ts).
    () => front.preload(),
  ]);
  if (config.ui) {
    const { proxySource, startUi } = await import('../ui/ui.js');
    // Never reachable through the proxy itself: its port counts as one of ours (a request to it is a loop).
    const ui = await startUi({ host: config.uiHost, port: config.uiPort, source: proxySource(proxy) }).catch(async (error: unknown) => {
      await proxy.close();
      throw error;
    });
    front.claim({ host: ui.host, port: ui.port });
    proxy.attachUi(ui);
  }
  return proxy;
}

/**
 * Runs `steps` one per event-loop turn after the current one, so a client arriving meanwhile is
 * served between them; stops once `closed` is aborted (`mitm run -- true` closes the proxy at once,
 * and its exit would otherwise wait for the rest).
 */
function warmUp(closed: AbortSignal, steps: ReadonlyArray<() => void>): void {
  const [step, ...rest] = steps;
  if (step === undefined) return;
  setImmediate(() => {
    if (closed.aborted) return;
    step();
    warmUp(closed, rest);
  }).unref();
}

/** Loads the CA and the connectivity files at once; a failure of one still waits for the other. */
async function loadCaAndConnectivity(
  config: ProxyConfig,
  lookup: OriginLookup | undefined,
  isOwnEndpoint: (address: string, port: number) => boolean,
): Promise<{ ca: CertificateAuthority; reach: Connectivity }> {
  const caLoaded = initCa(config.ca);
  const reachLoaded = loadConnectivity(config, lookup, isOwnEndpoint);
  // startProxy must not reject while initCa is still writing the CA folder (a caller cleaning that
  // folder up would race it).
  await Promise.allSettled([caLoaded, reachLoaded]);
  const [{ ca }, reach] = await Promise.all([caLoaded, reachLoaded]);
  return { ca, reach };
}

/**
 * Adds the `hooks` option's hooks, then the stock hooks of options (`block`, `setHeader`...), then
 * server replay (`serveFrom`: it answers the request as those left it, as it was recorded), then
 * those of each `hook` file.
 */
async function addHooks(proxy: ProxyHandle, hooks: readonly Hook[], config: ProxyConfig): Promise<void> {
  for (const hook of hooks) proxy.use(hook);
  for (const { hook, key } of await hooksFromOptions(config)) proxy.use(hook, key);
  const replay = await replayFromOptions(config);
  if (replay !== undefined) {
    const leftOut = replay.leftOut.length > 0 ? `, ${replay.leftOut.length} left out` : '';
    proxy.use(replay.hook, `${config.serveFrom}: ${replay.recordings} recorded responses${leftOut}`);
  }
  for (const file of config.hook) {
    for (const hook of await loadHookFile(file)) proxy.use(hook, file);
  }
  // Breakpoints come last, so a held request shows what the other hooks made of it.
  const rules = [
    ...config.break.map((filter) => ({ key: 'break', filter, on: 'request' as const })),
    ...config.breakResponse.map((filter) => ({ key: 'breakResponse', filter, on: 'response' as const })),
  ];
  for (const { key, filter, on } of rules) {
    try {
      proxy.breakpoints.add({ filter, on });
    } catch (error) {
      throw new MitmError('config_invalid', `${key} ${JSON.stringify(filter)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The listeners to bind: each --mode, or one regular listener on --host/--port. */
function modesOf(config: ProxyConfig): readonly ModeSpec[] {
  return config.mode.length === 0 ? [{ kind: 'regular', listen: undefined }] : config.mode.map(parseMode);
}

/** What DNS listeners answer with and forward to: --dns-answer, --dns-upstream, else the system's first resolver. */
async function dnsSettings(config: ProxyConfig): Promise<DnsSettings> {
  const dns = config.mode.some((mode) => mode.startsWith('dns'));
  // node:dns is loaded only when a dns listener will forward to the system's resolver.
  const upstream = config.dnsUpstream ?? (dns ? (await import('node:dns')).getServers()[0] : undefined) ?? '';
  if (upstream === '' && dns) {
    throw new MitmError(
      'config_invalid',
      'a dns listener forwards queries, but this machine has no resolver configured: name one with --dns-upstream ADDR[:PORT]',
    );
  }
  return { answer: config.dnsAnswer, upstream: upstream === '' ? { host: '127.0.0.1', port: 53 } : parseDnsUpstream(upstream) };
}

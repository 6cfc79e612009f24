import { initCa, type CertificateAuthority } from '../ca/authority.js';
import { createCertCache } from '../ca/cert-cache.js';
import { createLeafMinter } from '../ca/mint-leaf.js';
import { parseProxyOptions } from '../config/load.js';
import type { ProxyConfig, ProxyOptions } from '../config/schema.js';
import { loadHookFile } from '../hooks/load-hook-file.js';
import type { Hook } from '../hooks/types.js';
import { FlowStore } from '../record/flow-store.js';
import { openProxyStore } from './open-proxy-store.js';
import { buildRuntime } from './build-runtime.js';
import { ClientFront } from './client-front.js';
import { loadConnectivity, type Connectivity } from './connectivity.js';
import { createOriginSide } from './origin-side.js';
import { ProxyHandle, type RunningProxy } from './proxy-handle.js';

/** What `startProxy` accepts: every option of the schema, plus hooks (code, so not in the schema). */
export interface StartOptions extends ProxyOptions {
  /** Hooks to run on every flow, in this order, before any loaded with `hook` files or added by `use`. */
  readonly hooks?: readonly Hook[];
}

/**
 * Starts the proxy: loads or creates the CA (in `ca`, by default the per-user folder, see
 * config/schema.ts), then listens (port 0 picks a free port).
 */
export async function startProxy(options: StartOptions = {}): Promise<RunningProxy> {
  const { hooks = [], ...schemaOptions } = options;
  const config = parseProxyOptions(schemaOptions);
  const { ca, reach } = await loadCaAndConnectivity(config);
  const certs = createCertCache(await createLeafMinter(ca, config.leafKey), { max: config.leafCacheSize });
  const store = new FlowStore(config.keep);
  // A bad --store path stops start-up before we listen; its write errors become 'store-error' events.
  const session = await openProxyStore(config, (record) => proxy.emit('store-error', record));
  const proxy = new ProxyHandle({ config, caCertPem: ca.certPem, store, session });
  try {
    // A bad hook file stops start-up before we listen.
    await addHooks(proxy, hooks, config.hook);
  } catch (error) {
    await session?.close();
    throw error;
  }
  const origins = createOriginSide(config, reach);
  const front = new ClientFront();
  front.route(buildRuntime({ config, ca, certs, reach, origins, store, session, proxy, front }), origins.connector);
  const port = await front.listen(config.host, config.port).catch(async (error: unknown) => {
    await session?.close();
    throw error;
  });
  proxy.attach({
    port,
    get connections() {
      return front.connections;
    },
    drain: () => front.drain(),
    close: async () => {
      reach.pinned?.stop();
      const closed = front.close();
      origins.upstream.close();
      await closed;
    },
  });
  return proxy;
}

/** Loads the CA and the connectivity files at once; a failure of one still waits for the other. */
async function loadCaAndConnectivity(config: ProxyConfig): Promise<{ ca: CertificateAuthority; reach: Connectivity }> {
  const caLoaded = initCa(config.ca);
  const reachLoaded = loadConnectivity(config);
  // startProxy must not reject while initCa is still writing the CA folder (a caller cleaning that
  // folder up would race it).
  await Promise.allSettled([caLoaded, reachLoaded]);
  const [{ ca }, reach] = await Promise.all([caLoaded, reachLoaded]);
  return { ca, reach };
}

/** Adds the `hooks` option's hooks, then those of each `hook` file, in the order given. */
async function addHooks(proxy: ProxyHandle, hooks: readonly Hook[], files: readonly string[]): Promise<void> {
  for (const hook of hooks) proxy.use(hook);
  for (const file of files) {
    for (const hook of await loadHookFile(file)) proxy.use(hook);
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Only the public entry point: the e2e suite tests the library as a harness would use it.
import { startProxy, type ClientIssue, type FlowRecord, type StartOptions, type RunningProxy, type TunnelRecord } from '../../src/index.js';
import { within, WAIT_MS } from './deadline.js';
import type { TestPki } from './pki.js';

/** Keeps every event of one kind and lets a test await one that matches. */
export class Recorder<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>();

  push(item: T): void {
    this.items.push(item);
    for (const waiter of this.#waiters) {
      if (waiter.match(item)) {
        this.#waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  /**
   * The first recorded item matching `match`, or the next one to arrive; rejects after `ms` with
   * the predicate's source and how many items did arrive.
   */
  waitFor(match: (item: T) => boolean, ms = WAIT_MS): Promise<T> {
    const seen = this.items.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    const waiter = { match, resolve: (_item: T): void => undefined };
    const arrived = new Promise<T>((resolve) => {
      waiter.resolve = resolve;
    });
    this.#waiters.add(waiter);
    return within(arrived, () => `an item matching ${match.toString()} (${this.items.length} recorded, none matched)`, ms).finally(() =>
      this.#waiters.delete(waiter),
    );
  }
}

/** A proxy under test with its own CA folder. */
export interface TestProxy {
  readonly proxy: RunningProxy;
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  /** The proxy's root CA, which clients trust for intercepted hosts. */
  readonly caPath: string;
  /** The same root CA as PEM text, for Node clients. */
  readonly caPem: string;
  readonly flows: Recorder<FlowRecord>;
  readonly tunnels: Recorder<TunnelRecord>;
  readonly clientIssues: Recorder<ClientIssue>;
  /** Closes the proxy and removes its CA folder. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1, port 0, with a fresh CA folder (created by the proxy) and the test
 * PKI's root as an upstream CA; `options` adds or overrides the rest.
 */
export async function startTestProxy(pki: TestPki, options: StartOptions = {}): Promise<TestProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'mitm-test-ca-'));
  let proxy: RunningProxy;
  try {
    proxy = await startProxy({ port: 0, ca: dir, upstreamCa: [pki.ca.certPath], ...options });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const flows = new Recorder<FlowRecord>();
  const tunnels = new Recorder<TunnelRecord>();
  const clientIssues = new Recorder<ClientIssue>();
  proxy.on('flow', (flow: FlowRecord) => flows.push(flow));
  proxy.on('tunnel', (tunnel: TunnelRecord) => tunnels.push(tunnel));
  proxy.on('client-issue', (issue: ClientIssue) => clientIssues.push(issue));
  return {
    proxy,
    url: proxy.url,
    port: proxy.port,
    caPath: join(dir, 'ca.pem'),
    caPem: proxy.caCertPem,
    flows,
    tunnels,
    clientIssues,
    close: async () => {
      try {
        await proxy.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Proxies a suite starts test by test (each with its own options), closed together in its `after`. */
export class TestProxies {
  readonly #started: TestProxy[] = [];

  /** Starts one with `startTestProxy(pki, options)` and keeps it for `closeAll()`. */
  async start(pki: TestPki, options?: StartOptions): Promise<TestProxy> {
    const proxy = await startTestProxy(pki, options);
    this.#started.push(proxy);
    return proxy;
  }

  /** Closes every proxy started so far. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#started.splice(0).map((proxy) => proxy.close()));
  }
}

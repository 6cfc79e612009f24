import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { initCa, startProxy, type Hook, type ProxyOptions, type RunningProxy } from '../../src/index.js';
import type { TestPki } from './pki.js';

/** Starts one proxy per test, each with its own hooks, all sharing one CA folder (made once). */
export interface HookProxies {
  /** The shared root CA, PEM and file, for clients of intercepted hosts. */
  readonly caPem: string;
  readonly caPath: string;
  /** A proxy on port 0 running `hooks`, trusting the test PKI for origins; closed when `t` ends. */
  start(t: TestContext, hooks: readonly Hook[], options?: ProxyOptions): Promise<RunningProxy>;
  /** Removes the CA folder. */
  cleanup(): Promise<void>;
}

/** Creates the CA folder and the factory. */
export async function hookProxies(pki: TestPki): Promise<HookProxies> {
  const dir = await mkdtemp(join(tmpdir(), 'mitm-test-hooks-ca-'));
  await initCa(dir);
  const caPath = join(dir, 'ca.pem');
  return {
    caPath,
    caPem: await readFile(caPath, 'utf8'),
    start: async (t, hooks, options = {}) => {
      const proxy = await startProxy({ port: 0, ca: dir, upstreamCa: [pki.ca.certPath], hooks, ...options });
      t.after(() => proxy.close());
      return proxy;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A promise with its resolve function outside: hooks settle it, tests await it (no timers). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Creates a Deferred. */
export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

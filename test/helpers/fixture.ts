import type { RequestListener } from 'node:http';
import { after, before } from 'node:test';
import type { StartOptions } from '../../src/index.js';
import { startCustomOrigin, type CustomOrigin } from './custom-origin.js';
import { hookProxies, type HookProxies } from './hook-proxy.js';
import { startOrigin, type Origin } from './origin.js';
import { createTestPki, type TestPki } from './pki.js';
import { startTestProxy, type TestProxy } from './proxy.js';

/** Anything a suite starts and must stop again. */
export interface Closable {
  close(): Promise<void> | void;
}

/** Starts one origin (or any server) for a suite, given the suite's test PKI. */
export type OriginFactory<T extends Closable> = (pki: TestPki) => Promise<T>;

/** An HTTPS origin (`startOrigin`) with the test PKI's `localhost` certificate. */
export const httpsOrigin: OriginFactory<Origin> = (pki) => startOrigin(pki.origin);
/** A plain-HTTP origin (`startOrigin`). */
export const httpOrigin: OriginFactory<Origin> = () => startOrigin();
/** An HTTPS origin whose certificate nobody trusts (self-signed). */
export const selfSignedOrigin: OriginFactory<Origin> = (pki) => startOrigin(pki.selfSigned);
/** An HTTPS origin with a trusted certificate for another name (wrong-name.test). */
export const wrongNameOrigin: OriginFactory<Origin> = (pki) => startOrigin(pki.wrongName);

/** An origin answering with `handler` (`startCustomOrigin`): over HTTPS with the `localhost` certificate when `secure`. */
export function customOrigin(handler: RequestListener, options: { secure?: boolean } = {}): OriginFactory<CustomOrigin> {
  return (pki) => startCustomOrigin(handler, options.secure === true ? pki.origin : undefined);
}

/** What a proxy of the suite is started with: options, or a function of the PKI and the started origins. */
export type ProxySpec<O> = StartOptions | ((pki: TestPki, origins: O) => StartOptions | Promise<StartOptions>);

/** What a suite needs: origins first, then proxies (started with `startTestProxy`). */
export interface FixtureSpec<O extends Record<string, Closable>, P extends string> {
  readonly origins?: { readonly [K in keyof O]: OriginFactory<O[K]> };
  readonly proxies?: { readonly [K in P]: ProxySpec<O> };
  /** Also a `hookProxies` factory (one CA folder, a proxy per test with its own hooks), as `hooks`. */
  readonly hookProxies?: boolean;
}

/** The started fixture: `pki`, each origin and proxy by the name the spec gave it, and `hooks`. */
export type Fixture<O extends Record<string, Closable>, P extends string> = {
  readonly pki: TestPki;
  /** The `hookProxies` factory; only with `hookProxies: true`. */
  readonly hooks: HookProxies;
  /** Runs `fn` in the suite's `after`, before the proxies and origins close (last registered first). */
  onClose(fn: () => unknown): void;
} & { readonly [K in keyof O]: O[K] } & { readonly [K in P]: TestProxy };

/**
 * The before/after every e2e suite repeats: registers a `before` (with `node:test`, in the current
 * suite) that creates the test PKI, starts the origins, then the proxies (each with its own CA
 * folder and the test PKI trusted for origins), and an `after` that closes all of them: what
 * `onClose` registered first, then the proxies, the origins and the PKI. Everything that did start
 * is closed even when a later start failed. Read the members inside tests and hooks only: before
 * the suite's `before` has run they throw.
 */
export function e2eFixture<O extends Record<string, Closable> = Record<never, never>, P extends string = never>(
  spec: FixtureSpec<O, P>,
): Fixture<O, P> {
  const values = new Map<string, unknown>();
  const started: { proxies: Closable[]; origins: Closable[]; pki?: TestPki; hooks?: HookProxies } = { proxies: [], origins: [] };
  const onClose: Array<() => unknown> = [];
  const originEntries = Object.entries(spec.origins ?? {}) as Array<[string, OriginFactory<Closable>]>;
  const proxyEntries = Object.entries(spec.proxies ?? {}) as Array<[string, ProxySpec<O>]>;

  const fixture: Record<string, unknown> = {
    onClose: (fn: () => unknown) => {
      onClose.push(fn);
    },
  };
  for (const name of ['pki', 'hooks', ...originEntries.map(([key]) => key), ...proxyEntries.map(([key]) => key)]) {
    Object.defineProperty(fixture, name, {
      enumerable: true,
      get: () => {
        if (!values.has(name))
          throw new Error(`fixture: "${name}" is not started (read before the suite's before() ran, or its setup failed)`);
        return values.get(name);
      },
    });
  }

  before(async () => {
    const pki = await createTestPki();
    started.pki = pki;
    values.set('pki', pki);
    await Promise.all(
      originEntries.map(async ([name, start]) => {
        const origin = await start(pki);
        started.origins.push(origin);
        values.set(name, origin);
      }),
    );
    const origins = Object.fromEntries(originEntries.map(([name]) => [name, values.get(name)])) as O;
    await Promise.all(
      proxyEntries.map(async ([name, options]) => {
        const proxy = await startTestProxy(pki, typeof options === 'function' ? await options(pki, origins) : options);
        started.proxies.push(proxy);
        values.set(name, proxy);
      }),
    );
    if (spec.hookProxies === true) {
      started.hooks = await hookProxies(pki);
      values.set('hooks', started.hooks);
    }
  });

  after(async () => {
    const failures: unknown[] = [];
    const settle = async (closing: Array<Promise<unknown> | unknown>): Promise<void> => {
      for (const result of await Promise.allSettled(closing)) if (result.status === 'rejected') failures.push(result.reason);
    };
    for (const fn of onClose.splice(0).reverse()) await settle([Promise.resolve().then(fn)]);
    await settle(started.proxies.splice(0).map((proxy) => proxy.close()));
    await settle(started.origins.splice(0).map((origin) => origin.close()));
    await settle([started.hooks?.cleanup(), started.pki?.cleanup()]);
    values.clear();
    if (failures.length > 0) throw new AggregateError(failures, `fixture: ${failures.length} thing(s) failed to close`);
  });

  return fixture as Fixture<O, P>;
}

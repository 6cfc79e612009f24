import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { redactSecrets } from '../config/load.js';
import type { ProxyConfig } from '../config/schema.js';
import type { Flow } from '../flow/flow.js';
import type { HookPipeline } from '../hooks/pipeline.js';
import type { Hook } from '../hooks/types.js';
import type { FlowStore } from '../record/flow-store.js';
import { toHar } from '../record/har.js';
import { harCreator } from '../record/har-creator.js';
import type { Har } from '../record/har-types.js';
import type { ProxyEventMap } from '../events.js';

/** A proxy that is listening. Emits `flow`, `tunnel`, `client-issue` and `hook-fault` events (see events.ts). */
export interface RunningProxy extends EventEmitter<ProxyEventMap> {
  /** `http://HOST:PORT`: what clients set as their HTTP and HTTPS proxy. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The root CA certificate (PEM) clients must trust. */
  readonly caCertPem: string;
  /** The options in effect, defaults filled in; passwords and the passphrase read `***`. */
  readonly config: ProxyConfig;
  /** Recorded flows, oldest first: the last `keep` that ended. */
  readonly flows: readonly Flow[];
  /** Resolves with the first recorded flow matching `predicate` (already recorded or yet to come); rejects after `timeout` ms. */
  waitForFlow(predicate: (flow: Flow) => boolean, options?: { timeout?: number }): Promise<Flow>;
  /** Appends a hook; it sees every flow that starts from now on. */
  use(hook: Hook): void;
  /** Forgets the recorded flows. */
  clear(): void;
  /** The recorded flows as a HAR 1.2 log (what `mitm start --har` writes); pass it to `writeHarFile` to save it. */
  har(): Har;
  /** Stops listening and closes every client, tunnel and origin connection. */
  close(): Promise<void>;
}

/** The object `startProxy` hands out: the public face over the engine's parts. */
export class ProxyHandle extends EventEmitter<ProxyEventMap> implements RunningProxy {
  readonly config: ProxyConfig;
  readonly caCertPem: string;
  readonly #store: FlowStore;
  readonly #hooks: HookPipeline;
  readonly #teardown: () => Promise<void>;
  #port = 0;
  #closing: Promise<void> | undefined;

  constructor(parts: {
    config: ProxyConfig;
    caCertPem: string;
    store: FlowStore;
    hooks: HookPipeline;
    teardown: () => Promise<void>;
  }) {
    super();
    this.config = redactSecrets(parts.config);
    this.caCertPem = parts.caCertPem;
    this.#store = parts.store;
    this.#hooks = parts.hooks;
    this.#teardown = parts.teardown;
  }

  /** Records the port actually bound (port 0 picks one); called once by startProxy. */
  listeningOn(port: number): void {
    this.#port = port;
  }

  get host(): string {
    return this.config.host;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.config.host;
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${this.#port}`;
  }

  get flows(): readonly Flow[] {
    return this.#store.flows;
  }

  waitForFlow(predicate: (flow: Flow) => boolean, options?: { timeout?: number }): Promise<Flow> {
    return this.#store.waitFor(predicate, options);
  }

  use(hook: Hook): void {
    this.#hooks.use(hook);
  }

  clear(): void {
    this.#store.clear();
  }

  har(): Har {
    return toHar(this.#store.flows, harCreator());
  }

  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }
}

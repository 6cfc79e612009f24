import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { redactSecrets } from '../config/load.js';
import { MitmError } from '../errors.js';
import type { ListenerInfo } from '../config/modes.js';
import type { ProxyConfig } from '../config/schema.js';
import type { Flow } from '../flow/flow.js';
import { Breakpoints, type BreakpointControl } from '../hooks/breakpoints.js';
import { HookPipeline } from '../hooks/pipeline.js';
import { ReplayMarks } from '../hooks/replay-mark.js';
import { compileFilter, subjectOfFlow } from '../record/filter/filter.js';
import type { Hook } from '../hooks/types.js';
import type { FlowStore } from '../record/flow-store.js';
import { toHar } from '../record/har.js';
import { harCreator } from '../record/har-creator.js';
import type { Har } from '../record/har-types.js';
import type { ProxyEventMap } from '../events.js';
import type { RunningUi } from '../ui/ui.js';
import type { SessionStore } from '../record/store/open-store.js';
import type { StoredFlow } from '../record/store/types.js';
import { callListeners } from './guarded-emit.js';
import { queryRing, type FlowQueryOptions } from './query-flows.js';
import type { ReplayedFlow, ReplayEdits } from './replay-flow.js';

/** A proxy that is listening. Emits `flow`, `tunnel`, `client-issue` and `hook-fault` events (see events.ts). */
export interface RunningProxy extends EventEmitter<ProxyEventMap> {
  /** `http://HOST:PORT` of the first regular listener (else the first listener): what clients set as their HTTP and HTTPS proxy. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /**
   * Every listener (`--mode`), in order: kind, mode, host, port and address. (Not `listeners`:
   * that is EventEmitter's method.)
   */
  readonly addresses: readonly ListenerInfo[];
  /** The root CA certificate (PEM) clients must trust. */
  readonly caCertPem: string;
  /** The options in effect, defaults filled in; passwords and the passphrase read `***`. */
  readonly config: ProxyConfig;
  /** Recorded flows, oldest first: the last `keep` that ended. */
  readonly flows: readonly Flow[];
  /** Client connections open now on the proxy port (each CONNECT tunnel counts once). */
  readonly connections: number;
  /** `http://HOST:PORT` of the `metrics` listener (GET /metrics, /healthz); undefined without that option. */
  readonly metricsUrl: string | undefined;
  /**
   * Resolves with the first recorded flow matching `predicate` (already recorded or yet to come);
   * rejects after `timeout` ms, when the proxy closes, or with the error `predicate` throws.
   */
  waitForFlow(predicate: (flow: Flow) => boolean, options?: { timeout?: number }): Promise<Flow>;
  /** Appends a hook; it sees every flow that starts from now on. */
  use(hook: Hook): void;
  /** The installed hooks in running order: each one's name, and the option or file it came from (`--block`, `./hooks/auth.ts`) when known. */
  readonly hooks: ReadonlyArray<{ readonly name: string; readonly source: string | undefined }>;
  /** Forgets the recorded flows, except the pinned ones. */
  clear(): void;
  /** Pins (or, with `false`, unpins) a recorded flow so `clear` keeps it; false when no such flow is kept. */
  pin(id: number, pinned?: boolean): boolean;
  /** Ids of the pinned flows. */
  readonly pinned: ReadonlySet<number>;
  /**
   * Breakpoint rules (docs/ui.md#breakpoints): matching flows are held, and announced as `held`
   * events, until resumed, aborted or answered, or until `breakTimeout` fails them.
   */
  readonly breakpoints: BreakpointControl;
  /** The `store` option's open store (docs/store.md), or undefined without one; `close()` closes it. */
  readonly store: SessionStore | undefined;
  /**
   * The recorded flows matching `filter` (docs/filters.md; '' matches all), read from the store
   * when there is one, else from the in-memory ring. Throws FilterError when the filter does not parse.
   */
  query(filter: string, options?: FlowQueryOptions): StoredFlow[];
  /** The recorded flows as a HAR 1.2 log (what `mitm start --har` writes); pass it to `writeHarFile` to save it. */
  har(): Har;
  /**
   * Sends kept flow `id`'s request again through this proxy, with `edits` applied; resolves with
   * the new flow (tagged `replayed` and `replay-of:ID`) once recorded, and replay()'s comparison.
   * Throws `replay_failed`.
   */
  replay(id: number, edits?: ReplayEdits): Promise<ReplayedFlow>;
  /**
   * Stops listening and closes every client, tunnel and origin connection. With `graceful`, it
   * first waits for the connections busy with a request, tunnel or WebSocket to end by themselves
   * (idle ones are closed at once); a later `close()` without it cuts that wait short.
   */
  close(options?: { readonly graceful?: boolean }): Promise<void>;
  /** The web inspector (`ui: true`): its URL with the access token, and whether it listens beyond loopback. */
  readonly ui: { readonly url: string; readonly origin: string; readonly exposed: boolean } | undefined;
}

/** What the handle needs of the network side: counting, draining and closing connections. */
export interface ProxyNetwork {
  /** Every listener bound, in --mode order. */
  readonly listeners: readonly ListenerInfo[];
  /** Client connections open now. */
  readonly connections: number;
  /** The metrics listener's URL, when one runs. */
  readonly metricsUrl?: string | undefined;
  /** Stops accepting, closes idle connections, and resolves once every client connection has ended. */
  drain(): Promise<void>;
  /** Closes everything at once. */
  close(): Promise<void>;
}

/** The object `startProxy` hands out: the public face over the engine's parts. */
export class ProxyHandle extends EventEmitter<ProxyEventMap> implements RunningProxy {
  readonly config: ProxyConfig;
  readonly caCertPem: string;
  /** The hook pipeline every flow runs through (internal: the runtime reads it; not part of RunningProxy). */
  readonly pipeline: HookPipeline;
  /** The breakpoint rules and held flows (`proxy.breakpoints`; the inspector reads them through proxyActions). */
  readonly breakpoints: Breakpoints;
  readonly #store: FlowStore;
  readonly store: SessionStore | undefined;
  #network: ProxyNetwork | undefined;
  #ui: RunningUi | undefined;
  #closing: Promise<void> | undefined;
  #marks: ReplayMarks | undefined;
  #draining: Promise<void> | undefined;

  constructor(parts: { config: ProxyConfig; caCertPem: string; store: FlowStore; session?: SessionStore | undefined }) {
    super();
    this.config = redactSecrets(parts.config);
    this.caCertPem = parts.caCertPem;
    this.#store = parts.store;
    this.store = parts.session;
    this.pipeline = new HookPipeline((fault) => this.emit('hook-fault', fault));
    this.breakpoints = new Breakpoints({
      timeoutMs: parts.config.breakTimeout,
      compile: (text) => {
        const matches = compileFilter(text);
        return (flow) => matches(subjectOfFlow(flow));
      },
      install: (hook) => this.use(hook, 'breakpoints'),
      onHeld: (held) => this.emit('held', held),
      onReleased: (release) => this.emit('released', release),
    });
  }

  /** Attaches the listening network side; called once by startProxy. */
  attach(network: ProxyNetwork): void {
    this.#network = network;
  }

  /**
   * Calls every listener of `event`, like EventEmitter's emit, except that a listener that throws
   * (or returns a promise that rejects) cannot take the proxy down: its error is reported as a
   * `hook-fault` with phase `listener`, and the remaining listeners still run. Emits happen inside
   * socket callbacks, where a throw would be an uncaught exception ending the process.
   */
  override emit<K>(event: K | keyof ProxyEventMap, ...args: K extends keyof ProxyEventMap ? ProxyEventMap[K] : never): boolean {
    return callListeners(this, this.rawListeners(event), args, (error) => {
      // A throwing hook-fault listener has no one left to tell; reporting it again would loop.
      if (event === 'hook-fault') return;
      this.emit('hook-fault', { hook: String(event), phase: 'listener', message: errorMessage(error) });
    });
  }

  get metricsUrl(): string | undefined {
    return this.#network?.metricsUrl;
  }

  get addresses(): readonly ListenerInfo[] {
    return this.#network?.listeners ?? [];
  }

  get host(): string {
    return this.#primary()?.host ?? this.config.host;
  }

  get port(): number {
    return this.#primary()?.port ?? 0;
  }

  get url(): string {
    const host = this.host;
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${this.port}`;
  }

  // The listener `url`, `host` and `port` describe: the first regular one, else the first of all.
  #primary(): ListenerInfo | undefined {
    const listeners = this.addresses;
    return listeners.find((listener) => listener.kind === 'regular') ?? listeners[0];
  }

  get flows(): readonly Flow[] {
    return this.#store.flows;
  }

  get connections(): number {
    return this.#network?.connections ?? 0;
  }

  waitForFlow(predicate: (flow: Flow) => boolean, options?: { timeout?: number }): Promise<Flow> {
    return this.#store.waitFor(predicate, options);
  }

  get hooks(): ReadonlyArray<{ readonly name: string; readonly source: string | undefined }> {
    return this.pipeline.list();
  }

  /** Appends a hook; `source` says which option or file it came from. */
  use(hook: Hook, source?: string): void {
    this.pipeline.use(hook, source);
  }

  get pinned(): ReadonlySet<number> {
    return this.#store.pinned;
  }

  pin(id: number, pinned = true): boolean {
    return this.#store.pin(id, pinned);
  }

  clear(): void {
    this.#store.clear();
  }

  query(filter: string, options: FlowQueryOptions = {}): StoredFlow[] {
    if (this.store) return this.store.query(filter, options);
    return queryRing(this.#store.flows, filter, options, this.config);
  }

  har(): Har {
    return toHar(this.#store.flows, harCreator());
  }

  replay(id: number, edits?: ReplayEdits): Promise<ReplayedFlow> {
    // The replay goes through the proxy's own regular listener, as a client would; the proxy
    // keeps only hashes of proxy credentials, so it cannot present them to itself.
    if (this.config.proxyAuth.length > 0 || this.config.proxyAuthFile !== undefined) {
      return Promise.reject(
        new MitmError('replay_failed', 'replay is not available on a proxy that requires --proxy-auth: it cannot authenticate to itself'),
      );
    }
    if (!this.addresses.some((listener) => listener.kind === 'regular')) {
      return Promise.reject(
        new MitmError('replay_failed', 'replay needs a regular listener to send the request through; this proxy has none'),
      );
    }
    if (this.#marks === undefined) {
      // Installed on first use, in front of every hook: they never see the replay's token header.
      this.#marks = new ReplayMarks();
      this.pipeline.prepend(this.#marks.hook);
    }
    const marks = this.#marks;
    // Loaded on first use: the sender (record/replay.ts) brings undici, which start-up does not need.
    return import('./replay-flow.js').then(({ replayFlow }) =>
      replayFlow(
        {
          flows: this.#store.flows,
          marks,
          through: this.url,
          caCertPem: this.caCertPem,
          recordBodyLimit: this.config.recordBodyLimit,
          timeoutMs: this.config.upstreamTimeout + 5000,
          waitForFlow: (predicate, options) => this.waitForFlow(predicate, options),
        },
        id,
        edits,
      ),
    );
  }

  get ui(): RunningUi | undefined {
    return this.#ui;
  }

  /** Attaches the web inspector; it closes first when the proxy closes. */
  attachUi(ui: RunningUi): void {
    this.#ui = ui;
  }

  close(options: { readonly graceful?: boolean } = {}): Promise<void> {
    void this.#ui?.close();
    // Held flows go on unchanged, so a graceful close can finish them.
    this.breakpoints.close();
    const network = this.#network;
    if (network === undefined) return Promise.resolve();
    if (options.graceful === true && this.#closing === undefined) {
      // The drain ends when the last connection does, also when a forced close() ends them all.
      this.#draining ??= network.drain().then(() => this.close());
      return this.#draining;
    }
    this.#closing ??= this.#shutDown(network);
    return this.#closing;
  }

  async #shutDown(network: ProxyNetwork): Promise<void> {
    try {
      await network.close();
    } finally {
      // The store is closed last, so flows ended by the shutdown are written too.
      this.#store.close();
      await this.store?.close();
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

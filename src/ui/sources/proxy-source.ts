import type { ListenerInfo } from '../../config/modes.js';
import type { AutoPassthroughRecord, ClientIssue, FlowRecord, HeldFlow, HeldRelease, TunnelRecord } from '../../events.js';
import type { Flow } from '../../flow/flow.js';
import { subjectOfFlow, subjectOfRecord, type FilterPredicate, type FilterSubject } from '../../record/filter/filter.js';
import { toHar } from '../../record/har.js';
import { harCreator } from '../../record/har-creator.js';
import { storedEntry } from '../../record/har-stored.js';
import { type SessionStore, storeFileBytes } from '../../record/store/open-store.js';
import { IMPORTED_ID_BASE, type ConnectionEvent, type FlowSummary, type UiStats } from '../api-types.js';
import { caFingerprint } from '../ca-fingerprint.js';
import { ConnectionLog } from './connection-log.js';
import { detailOfFlow, summaryOfFlow, summaryOfRecord } from './flow-view.js';
import { ImportedFlows } from './imported-flows.js';
import { ListenerSet } from './listeners.js';
import { proxyActions, type ActionableProxy } from './proxy-actions.js';
import type { ListOptions, UiSource } from './source.js';

/**
 * What the inspector needs of a running proxy (`RunningProxy` fits): its ring of finished flows,
 * its events, its CA. Declared here, not imported, because the proxy wiring sits above the UI.
 */
export interface InspectedProxy {
  readonly flows: readonly Flow[];
  /**
   * Its `keep` (the ring's size): with it, a flow's row is made from the Flow its 'flow' event
   * carries when the ring keeps flows, instead of looking the flow up in `flows`, which copies
   * the ring (1000 entries) on every read.
   */
  readonly config?: { readonly keep: number };
  readonly caCertPem: string;
  /** Its listeners, for the status bar. */
  readonly addresses?: readonly ListenerInfo[];
  /** The `--store` it writes, for the status bar. */
  readonly store?: SessionStore | undefined;
  on(event: 'flow', listener: (record: FlowRecord, flow?: Flow) => void): unknown;
  on(event: 'tunnel', listener: (record: TunnelRecord) => void): unknown;
  on(event: 'client-issue', listener: (issue: ClientIssue) => void): unknown;
  on(event: 'auto-passthrough', listener: (record: AutoPassthroughRecord) => void): unknown;
  on(event: 'held', listener: (held: HeldFlow) => void): unknown;
  on(event: 'released', listener: (release: HeldRelease) => void): unknown;
  off(event: 'flow', listener: (record: FlowRecord, flow?: Flow) => void): unknown;
  off(event: 'tunnel', listener: (record: TunnelRecord) => void): unknown;
  off(event: 'client-issue', listener: (issue: ClientIssue) => void): unknown;
  off(event: 'auto-passthrough', listener: (record: AutoPassthroughRecord) => void): unknown;
  off(event: 'held', listener: (held: HeldFlow) => void): unknown;
  off(event: 'released', listener: (release: HeldRelease) => void): unknown;
  /** Forgets the recorded flows but the pinned ones. */
  clear(): void;
  pin(id: number, pinned: boolean): boolean;
  readonly pinned: ReadonlySet<number>;
  /** Breakpoints and replay (docs/ui.md#breakpoints); without them the page offers neither. */
  readonly breakpoints?: ActionableProxy['breakpoints'];
  readonly replay?: ActionableProxy['replay'];
}

/** Options of `proxySource`. */
export interface ProxySourceOptions {
  /** 'flow' event records kept for the facts a Flow lacks (sent size, duration); default 100 000. */
  readonly keepRecords?: number;
  /** Connection events kept; default 2000. */
  readonly keepConnections?: number;
  /** Flows imported from HAR files kept; default 20 000. */
  readonly keepImported?: number;
}

interface Row {
  readonly summary: FlowSummary;
  readonly record: FlowRecord | undefined;
}

/**
 * A live source over a running proxy. Rows outlive the proxy's ring (`keep`, default 1000): each
 * flow's row and 'flow' event record are kept (up to `keepRecords`), so the list and its filters
 * still cover older flows; their details are gone with the ring, and header or body terms no
 * longer match them.
 */
export function proxySource(proxy: InspectedProxy, options: ProxySourceOptions = {}): UiSource {
  const keepRecords = options.keepRecords ?? 100_000;
  const rows = new Map<number, Row>();
  const connections = new ConnectionLog(options.keepConnections ?? 2000);
  const listeners = new ListenerSet();
  const fingerprint = caFingerprint(proxy.caCertPem);
  const imported = new ImportedFlows(options.keepImported ?? 20_000);
  const isImported = (id: number): boolean => id > IMPORTED_ID_BASE;
  const marked = (summary: FlowSummary): FlowSummary => (proxy.pinned.has(summary.id) ? { ...summary, pinned: true } : summary);

  // A fresh subject each time, not one cached per Flow: subjects are cheap to make (their header
  // lists and URL parts are made on first use), and a WeakMap entry per flow cost the garbage
  // collector more than the subjects themselves (docs/performance.md, round four).
  const subjectOf = (flow: Flow, record: FlowRecord | undefined): FilterSubject =>
    subjectOfFlow(flow, record ? { mode: record.mode, responseSize: record.responseBytes, durationMs: record.durationMs } : {});
  const find = (id: number): Flow | undefined => {
    const flows = proxy.flows;
    for (let i = flows.length - 1; i >= 0; i--) if (flows[i]?.id === id) return flows[i];
    return undefined;
  };
  const keep = (row: Row): void => {
    rows.set(row.summary.id, row);
    if (rows.size > keepRecords) rows.delete(rows.keys().next().value as number);
  };
  for (const flow of proxy.flows) keep({ summary: summaryOfFlow(flow, undefined), record: undefined });

  const keeps = proxy.config === undefined ? undefined : proxy.config.keep > 0;
  const onFlow = (record: FlowRecord, given?: Flow): void => {
    // The proxy emits 'flow' just before it adds the Flow to its ring (proxy/build-runtime.ts).
    queueMicrotask(() => {
      const flow = keeps === undefined || given === undefined ? find(record.id) : keeps ? given : undefined;
      const summary = flow ? summaryOfFlow(flow, record) : summaryOfRecord(record);
      const subject = flow ? subjectOf(flow, record) : subjectOfRecord(record);
      keep({ summary, record });
      listeners.each((listener) => listener.flow?.(summary, subject));
    });
  };
  const tell = (event: ConnectionEvent): void => listeners.each((listener) => listener.connection?.(event));
  const onTunnel = (record: TunnelRecord): void => tell(connections.tunnel(record));
  const onIssue = (issue: ClientIssue): void => tell(connections.clientIssue(issue));
  const onAuto = (record: AutoPassthroughRecord): void => tell(connections.autoPassthrough(record));
  proxy.on('flow', onFlow);
  proxy.on('tunnel', onTunnel);
  proxy.on('client-issue', onIssue);
  proxy.on('auto-passthrough', onAuto);
  const { breakpoints, replay } = proxy;
  const acting =
    breakpoints === undefined || replay === undefined
      ? undefined
      : proxyActions({ breakpoints, replay: (id, edits) => replay.call(proxy, id, edits) }, (state) =>
          listeners.each((listener) => listener.breakpoints?.(state)),
        );
  if (acting) {
    proxy.on('held', acting.tell);
    proxy.on('released', acting.tell);
  }

  const matching = (filter: FilterPredicate): Row[] => {
    const ring = new Map(proxy.flows.map((flow) => [flow.id, flow]));
    const out: Row[] = [];
    for (const row of rows.values()) {
      const flow = ring.get(row.summary.id);
      const subject = flow ? subjectOf(flow, row.record) : row.record ? subjectOfRecord(row.record) : undefined;
      if (subject !== undefined && filter(subject)) out.push(row);
    }
    return out;
  };

  return {
    kind: 'proxy',
    readOnly: false,
    list(filter: FilterPredicate, page: ListOptions = {}) {
      const all = [...matching(filter).map((row) => marked(row.summary)), ...imported.list(filter)];
      const offset = page.offset ?? 0;
      const slice = all.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
      return { total: all.length, flows: slice };
    },
    detail(id) {
      if (isImported(id)) return imported.detail(id);
      const flow = find(id);
      return flow ? { ...detailOfFlow(flow, rows.get(id)?.record), pinned: proxy.pinned.has(id) } : undefined;
    },
    har(filter, ids) {
      const chosen = new Set(
        matching(filter)
          .map((row) => row.summary.id)
          .filter((id) => ids === undefined || ids.has(id)),
      );
      const har = toHar(
        proxy.flows.filter((flow) => chosen.has(flow.id)),
        harCreator(),
      );
      har.log.entries.push(...imported.matching(filter, ids).map(storedEntry));
      return har;
    },
    connections: () => connections.events,
    stats: () => ({
      source: 'proxy',
      readOnly: false,
      flows: rows.size + imported.size,
      connections: connections.events.length,
      listeners: proxy.addresses?.map((listener) => ({ mode: listener.mode, address: listener.address })),
      caFingerprint: fingerprint,
      store: proxy.store && storeFigures(proxy.store),
    }),
    caPem: () => proxy.caCertPem,
    clear() {
      proxy.clear();
      for (const id of rows.keys()) if (!proxy.pinned.has(id)) rows.delete(id);
      const kept = [...rows.keys(), ...imported.clear()];
      connections.clear();
      listeners.each((listener) => listener.cleared?.(kept));
    },
    pin(id, pinned) {
      const known = isImported(id) ? imported.pin(id, pinned) : proxy.pin(id, pinned);
      if (known) listeners.each((listener) => listener.pinned?.(id, pinned));
      return known;
    },
    importHar(text, name) {
      const added = imported.add(text, name);
      for (const { summary, subject } of added) listeners.each((listener) => listener.flow?.(summary, subject));
      return added.map(({ summary }) => summary);
    },
    actions: acting?.actions,
    subscribe: (listener) => listeners.add(listener),
    close() {
      if (acting) {
        proxy.off('held', acting.tell);
        proxy.off('released', acting.tell);
      }
      proxy.off('flow', onFlow);
      proxy.off('tunnel', onTunnel);
      proxy.off('client-issue', onIssue);
      proxy.off('auto-passthrough', onAuto);
      listeners.clear();
    },
  };
}

/** The status bar's store figures; undefined once the store is closed (the proxy is stopping). */
function storeFigures(store: SessionStore): UiStats['store'] {
  try {
    return { file: store.file, bytes: storeFileBytes(store.file), flows: store.count() };
  } catch {
    return undefined;
  }
}

import type { AutoPassthroughRecord, ClientIssue, FlowRecord, HeldFlow, HeldRelease, TunnelRecord } from '../events.js';
import type { Flow } from '../flow/flow.js';
import { subjectOfFlow, subjectOfRecord, type FilterPredicate, type FilterSubject } from '../record/filter/filter.js';
import { toHar } from '../record/har.js';
import { harCreator } from '../record/har-creator.js';
import type { ConnectionEvent, FlowSummary } from './api-types.js';
import { caFingerprint } from './ca-fingerprint.js';
import { ConnectionLog } from './connection-log.js';
import { detailOfFlow, summaryOfFlow, summaryOfRecord } from './flow-view.js';
import { ListenerSet } from './listeners.js';
import { proxyActions, type ActionableProxy } from './proxy-actions.js';
import type { ListOptions, UiSource } from './source.js';

/**
 * What the inspector needs of a running proxy (`RunningProxy` fits): its ring of finished flows,
 * its events, its CA. Declared here, not imported, because the proxy wiring sits above the UI.
 */
export interface InspectedProxy {
  readonly flows: readonly Flow[];
  readonly caCertPem: string;
  on(event: 'flow', listener: (record: FlowRecord) => void): unknown;
  on(event: 'tunnel', listener: (record: TunnelRecord) => void): unknown;
  on(event: 'client-issue', listener: (issue: ClientIssue) => void): unknown;
  on(event: 'auto-passthrough', listener: (record: AutoPassthroughRecord) => void): unknown;
  on(event: 'held', listener: (held: HeldFlow) => void): unknown;
  on(event: 'released', listener: (release: HeldRelease) => void): unknown;
  off(event: 'flow', listener: (record: FlowRecord) => void): unknown;
  off(event: 'tunnel', listener: (record: TunnelRecord) => void): unknown;
  off(event: 'client-issue', listener: (issue: ClientIssue) => void): unknown;
  off(event: 'auto-passthrough', listener: (record: AutoPassthroughRecord) => void): unknown;
  off(event: 'held', listener: (held: HeldFlow) => void): unknown;
  off(event: 'released', listener: (release: HeldRelease) => void): unknown;
  clear(): void;
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
  const seen = new WeakMap<Flow, FilterSubject>();
  const connections = new ConnectionLog(options.keepConnections ?? 2000);
  const listeners = new ListenerSet();
  const fingerprint = caFingerprint(proxy.caCertPem);

  const subjectOf = (flow: Flow, record: FlowRecord | undefined): FilterSubject => {
    let subject = seen.get(flow);
    if (subject === undefined) {
      const facts = record ? { mode: record.mode, responseSize: record.responseBytes, durationMs: record.durationMs } : {};
      subject = subjectOfFlow(flow, facts);
      seen.set(flow, subject);
    }
    return subject;
  };
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

  const onFlow = (record: FlowRecord): void => {
    // The proxy emits 'flow' just before it adds the Flow to its ring (proxy/build-runtime.ts).
    queueMicrotask(() => {
      const flow = find(record.id);
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
      const all = matching(filter);
      const offset = page.offset ?? 0;
      const slice = all.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
      return { total: all.length, flows: slice.map((row) => row.summary) };
    },
    detail(id) {
      const flow = find(id);
      return flow ? detailOfFlow(flow, rows.get(id)?.record) : undefined;
    },
    har(filter) {
      const ids = new Set(matching(filter).map((row) => row.summary.id));
      return toHar(
        proxy.flows.filter((flow) => ids.has(flow.id)),
        harCreator(),
      );
    },
    connections: () => connections.events,
    stats: () => ({
      source: 'proxy',
      readOnly: false,
      flows: rows.size,
      connections: connections.events.length,
      caFingerprint: fingerprint,
    }),
    caPem: () => proxy.caCertPem,
    clear() {
      proxy.clear();
      rows.clear();
      connections.clear();
      listeners.each((listener) => listener.cleared?.());
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

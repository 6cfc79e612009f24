import type { FilterPredicate, FilterSubject } from '../../record/filter/filter.js';
import type { Har } from '../../record/har-types.js';
import type {
  BreakpointState,
  BreakpointView,
  ConnectionEvent,
  FlowDetail,
  FlowSummary,
  MessageEdits,
  ReplayAnswer,
  UiStats,
} from '../api-types.js';

/** What a source tells its subscribers; each callback is guarded, so a throw reaches no one else. */
export interface SourceListener {
  /** A flow ended; `subject` is what filters look at. */
  flow?(summary: FlowSummary, subject: FilterSubject): void;
  connection?(event: ConnectionEvent): void;
  /** Every flow was forgotten but the pinned ones, whose ids are `kept`. */
  cleared?(kept: readonly number[]): void;
  /** A flow was pinned or unpinned. */
  pinned?(id: number, pinned: boolean): void;
  /** A breakpoint rule changed, or a flow was held or released. */
  breakpoints?(state: BreakpointState): void;
}

/** What the page can do to a live proxy: breakpoints, held flows, replay (docs/ui-api.md). */
export interface UiActions {
  /** The rules and the flows held now. */
  state(): BreakpointState;
  /** Adds a rule; throws FilterError for a filter that does not parse. */
  addRule(filter: string, on: BreakpointView['on']): BreakpointView;
  /** Removes a rule; false when unknown. */
  removeRule(id: number): boolean;
  /** Releases held flow `flowId` with `edits`; throws breakpoint_edit_invalid or breakpoint_not_held. */
  resume(flowId: number, edits: MessageEdits): void;
  /** Fails held flow `flowId` (502 breakpoint_aborted); throws breakpoint_not_held. */
  abort(flowId: number): void;
  /** Answers held flow `flowId` with `mock` (status, headers, body); throws as resume does. */
  answer(flowId: number, mock: MessageEdits & { readonly status: number }): void;
  /** Sends kept flow `flowId` again through the proxy with `edits`; throws replay_failed. */
  replay(flowId: number, edits: MessageEdits): Promise<ReplayAnswer>;
}

/** A page of a listing. */
export interface ListOptions {
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

/** Where the inspector reads flows: a running proxy (live) or a store file (read-only). */
export interface UiSource {
  readonly kind: 'proxy' | 'store';
  /** True when `clear` is refused (a store opened for reading). */
  readonly readOnly: boolean;
  /** Flows matching `filter`, oldest first, with how many match in all. */
  list(filter: FilterPredicate, options?: ListOptions): { total: number; flows: FlowSummary[] };
  /** One flow with headers, bodies and messages; undefined when unknown (or no longer kept). */
  detail(id: number): FlowDetail | undefined;
  /** The matching flows as a HAR 1.2 log; with `ids`, only those of them (the page's selection). */
  har(filter: FilterPredicate, ids?: ReadonlySet<number>): Har;
  /** Recent tunnels, auto-passthroughs and refused handshakes, oldest first. */
  connections(): readonly ConnectionEvent[];
  /** Status figures, memory aside. */
  stats(): Omit<UiStats, 'memory' | 'caPath'>;
  /** The root CA (PEM) clients trust, when known. */
  caPem(): string | undefined;
  /** Forgets the flows (but the pinned ones) and connections; throws when read-only. */
  clear(): void;
  /** Pins or unpins a flow so `clear` keeps it; false when the flow is unknown; throws when read-only. */
  pin(id: number, pinned: boolean): boolean;
  /** Adds a HAR file's entries as imported flows; throws `config_invalid` naming `name` for a bad file, or when read-only. */
  importHar(text: string, name: string): FlowSummary[];
  /** Breakpoints and replay: present for a live proxy, absent for a store opened read-only. */
  readonly actions?: UiActions | undefined;
  /** Calls `listener` for what happens from now on; returns the unsubscribe function. */
  subscribe(listener: SourceListener): () => void;
  /** Releases what the source holds (event listeners); does not close the proxy or the store. */
  close(): void;
}

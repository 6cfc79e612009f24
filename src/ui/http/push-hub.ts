import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FilterPredicate, FilterSubject } from '../../record/filter/filter.js';
import {
  UI_API_VERSION,
  type BreakpointState,
  type ClientMessage,
  type ConnectionEvent,
  type FlowSummary,
  type PushMessage,
} from '../api-types.js';
import type { UiAccess } from './access.js';
import { uiStats } from './api-routes.js';
import { compileOrProblem } from './filter-problem.js';
import type { UiSource } from '../sources/source.js';

/** Push timing: batches go out at most this often, so a burst of flows costs the page one update. */
export interface PushOptions {
  readonly batchMs?: number;
  readonly statsMs?: number;
}

// A page that does not read (a background tab, a slow machine) must not grow our memory: past
// this much unsent, its queue is dropped and it gets a fresh snapshot once it catches up.
const MAX_BUFFERED = 8 * 2 ** 20;
const MAX_PENDING = 50_000;
// A snapshot goes out in slices, each its own message and so its own task in the page: one
// 20 000-row message is a 5 MB parse and a long pause.
const SLICE = 2000;

interface Page {
  readonly ws: WebSocket;
  filter: FilterPredicate | undefined;
  filterText: string;
  flows: FlowSummary[];
  events: ConnectionEvent[];
  stale: boolean;
  /** A breakpoints message was skipped while the page was behind: send the state when it catches up. */
  breakpointsBehind: boolean;
}

/** The push channel (`/api/v1/push`): each page's filter, and batches of what matches it. */
export class PushHub {
  readonly #source: UiSource;
  readonly #access: UiAccess;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #pages = new Set<Page>();
  readonly #batchMs: number;
  readonly #unsubscribe: () => void;
  readonly #statsTimer: NodeJS.Timeout;
  #batchTimer: NodeJS.Timeout | undefined;

  constructor(source: UiSource, access: UiAccess, options: PushOptions = {}) {
    this.#source = source;
    this.#access = access;
    this.#batchMs = options.batchMs ?? 100;
    this.#unsubscribe = source.subscribe({
      flow: (summary, subject) => this.#onFlow(summary, subject),
      connection: (event) => this.#onConnection(event),
      cleared: (kept) => this.cleared(kept),
      pinned: (id, pinned) => this.#broadcast({ type: 'pinned', id, pinned }),
      breakpoints: (state) => this.#breakpoints(state),
    });
    this.#statsTimer = setInterval(() => this.#broadcast({ type: 'stats', stats: uiStats(this.#source) }), options.statsMs ?? 2000);
    this.#statsTimer.unref();
  }

  /** Takes an HTTP upgrade: ours only with our Host, our Origin and the token; anything else is refused with a status. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://ui.invalid').pathname;
    const refuse = (status: number, reason: string): void => {
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${reason.length}\r\n\r\n${reason}`,
      );
    };
    if (path !== `/api/v${UI_API_VERSION}/push`) {
      refuse(404, 'Not Found');
      return;
    }
    if (!this.#access.hostAllowed(req)) {
      refuse(421, 'Misdirected Request');
      return;
    }
    if (!this.#access.originAllowed(req, true)) {
      refuse(403, 'Forbidden');
      return;
    }
    if (!this.#access.authorized(req)) {
      refuse(401, 'Unauthorized');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws));
  }

  /** Tells every page the flows are gone but the pinned ones (`kept`). */
  cleared(kept: readonly number[]): void {
    const keep = new Set(kept);
    for (const page of this.#pages) {
      page.flows = page.flows.filter((flow) => keep.has(flow.id));
      page.events = [];
    }
    this.#broadcast({ type: 'cleared', kept });
  }

  /** Closes every page's channel and stops the timers. */
  close(): void {
    this.#unsubscribe();
    clearInterval(this.#statsTimer);
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    for (const page of this.#pages) page.ws.terminate();
    this.#pages.clear();
    this.#wss.close();
  }

  #open(ws: WebSocket): void {
    const page: Page = { ws, filter: undefined, filterText: '', flows: [], events: [], stale: false, breakpointsBehind: false };
    this.#pages.add(page);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.#pages.delete(page));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = parseClientMessage(data.toString());
      if (message?.type === 'subscribe') this.#subscribe(page, message.filter);
    });
    this.#send(page, { type: 'hello', version: UI_API_VERSION, stats: uiStats(this.#source) });
    this.#send(page, { type: 'connections', events: this.#source.connections() });
    const actions = this.#source.actions;
    if (actions) this.#send(page, { type: 'breakpoints', state: actions.state() });
  }

  #subscribe(page: Page, text: string): void {
    const compiled = compileOrProblem(text);
    if ('problem' in compiled) {
      this.#send(page, { type: 'filter-error', filter: text, error: compiled.problem });
      return;
    }
    page.filter = compiled.predicate;
    page.filterText = text;
    this.#reset(page);
  }

  #reset(page: Page): void {
    if (page.filter === undefined) return;
    const { total, flows } = this.#source.list(page.filter);
    page.flows = [];
    page.stale = false;
    this.#send(page, { type: 'reset', filter: page.filterText, total, flows: flows.slice(0, SLICE) });
    for (let at = SLICE; at < flows.length; at += SLICE) this.#send(page, { type: 'flows', flows: flows.slice(at, at + SLICE) });
  }

  #onFlow(summary: FlowSummary, subject: FilterSubject): void {
    for (const page of this.#pages) {
      if (page.filter === undefined || page.stale) continue;
      let matched = false;
      try {
        matched = page.filter(subject);
      } catch {
        // A body that cannot be read is no match.
      }
      if (!matched) continue;
      page.flows.push(summary);
      if (page.flows.length > MAX_PENDING) [page.flows, page.stale] = [[], true];
    }
    this.#schedule();
  }

  #onConnection(event: ConnectionEvent): void {
    for (const page of this.#pages) page.events.push(event);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#batchTimer !== undefined) return;
    this.#batchTimer = setTimeout(() => this.#flush(), this.#batchMs);
    this.#batchTimer.unref();
  }

  #flush(): void {
    this.#batchTimer = undefined;
    let waiting = false;
    for (const page of this.#pages) {
      if (page.ws.bufferedAmount > MAX_BUFFERED) {
        waiting = true;
        continue;
      }
      if (page.stale) this.#reset(page);
      if (page.breakpointsBehind) {
        page.breakpointsBehind = false;
        const actions = this.#source.actions;
        if (actions) this.#send(page, { type: 'breakpoints', state: actions.state() });
      }
      if (page.flows.length > 0) this.#send(page, { type: 'flows', flows: page.flows.splice(0) });
      if (page.events.length > 0) this.#send(page, { type: 'connections', events: page.events.splice(0) });
    }
    if (waiting) this.#schedule();
  }

  // Each state carries the held flows' bodies: a page that is not reading gets none until it
  // catches up (then the state of that moment), so its socket buffer stays bounded.
  #breakpoints(state: BreakpointState): void {
    for (const page of this.#pages) {
      if (page.ws.bufferedAmount > MAX_BUFFERED) {
        page.breakpointsBehind = true;
        this.#schedule();
      } else {
        this.#send(page, { type: 'breakpoints', state });
      }
    }
  }

  #broadcast(message: PushMessage): void {
    for (const page of this.#pages) this.#send(page, message);
  }

  #send(page: Page, message: PushMessage): void {
    if (page.ws.readyState !== page.ws.OPEN) return;
    page.ws.send(JSON.stringify(message));
  }
}

function parseClientMessage(text: string): ClientMessage | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { type, filter } = value as { type?: unknown; filter?: unknown };
    return type === 'subscribe' && typeof filter === 'string' ? { type, filter } : undefined;
  } catch {
    return undefined;
  }
}

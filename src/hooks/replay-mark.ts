// Marks the flows the proxy sends to itself to replay a recorded one (proxy.replay): the request
// carries a one-time token in a header, which this hook takes off before any other hook, the
// breakpoints or the origin see it, and tags the flow `replayed` and `replay-of:ID`. Taking the
// header off counts as a change in `flow.changedBy`; the terminal's `[replay]` mark stands for it.
import { randomBytes } from 'node:crypto';
import type { Flow } from '../flow/flow.js';
import type { Hook } from './types.js';

/** The request header that carries a replay's token to the proxy (never forwarded). */
export const REPLAY_HEADER = 'x-mitm-replay';

interface Pending {
  readonly original: number;
  readonly resolve: (flow: Flow) => void;
}

/** Replays on their way through the proxy, by token. */
export class ReplayMarks {
  readonly #pending = new Map<string, Pending>();
  /** The hook; it has an onRequest phase only while a replay is on its way. */
  readonly hook: Hook;

  constructor() {
    const pending = this.#pending;
    const mark = (flow: Flow): void => this.#mark(flow);
    const hook = {
      name: 'replay',
      get onRequest() {
        return pending.size > 0 ? mark : undefined;
      },
    };
    // Read as absent when undefined, as the pipeline does (see hooks/breakpoints.ts).
    this.hook = hook as Hook;
  }

  /** A token for a replay of flow `original`; `flow` resolves with the new flow once its request reaches the proxy. */
  expect(original: number): { readonly token: string; readonly flow: Promise<Flow>; readonly cancel: () => void } {
    const token = randomBytes(16).toString('hex');
    const flow = new Promise<Flow>((resolve) => this.#pending.set(token, { original, resolve }));
    return { token, flow, cancel: () => this.#pending.delete(token) };
  }

  #mark(flow: Flow): void {
    const token = flow.request.header(REPLAY_HEADER);
    if (token === undefined) return;
    delete flow.request.headers[REPLAY_HEADER];
    const pending = this.#pending.get(token);
    if (!pending) return;
    this.#pending.delete(token);
    flow.tags.add('replayed');
    flow.tags.add(`replay-of:${pending.original}`);
    pending.resolve(flow);
  }
}

// The inspector's actions on a live proxy (docs/ui-api.md): breakpoint rules, the flows they hold
// as the editor shows them, resume / abort / answer, and replay. Everything goes through the
// proxy's own API (proxy.breakpoints, the 'held' events, proxy.replay), never around it.
import { isUtf8 } from 'node:buffer';
import { MitmError } from '../../errors.js';
import type { HeldFlow } from '../../events.js';
import type { Flow } from '../../flow/flow.js';
import { headerMapFromRaw, type HeaderMap } from '../../flow/header-map.js';
import type { BreakpointControl } from '../../hooks/breakpoints.js';
import type { BreakpointState, HeaderPair, HeldView } from '../api-types.js';
import { headerPairs } from './body-view.js';
import type { UiActions } from './source.js';

/** What the actions need of a running proxy (`RunningProxy` fits). */
export interface ActionableProxy {
  readonly breakpoints: BreakpointControl;
  replay(
    id: number,
    edits?: {
      method?: string | undefined;
      url?: string | undefined;
      headers?: readonly HeaderPair[] | undefined;
      body?: string | undefined;
    },
  ): Promise<{ readonly original: number; readonly flow: Flow }>;
}

/**
 * The actions over `proxy`; `changed` hears of every change to the rules the page makes, and of
 * held and released flows once the caller passes those events to `tell`.
 */
export function proxyActions(proxy: ActionableProxy, changed: (state: BreakpointState) => void): { actions: UiActions; tell(): void } {
  const find = (flowId: number): HeldFlow => {
    const held = proxy.breakpoints.held().find((candidate) => candidate.flow.id === flowId);
    if (!held) throw new MitmError('breakpoint_not_held', `flow ${flowId} is not held (any more)`);
    return held;
  };
  const actions: UiActions = {
    state: () => ({ rules: proxy.breakpoints.list(), held: proxy.breakpoints.held().map(heldView) }),
    addRule(filter, on) {
      const id = proxy.breakpoints.add({ filter, on });
      tell();
      return { id, filter, on };
    },
    removeRule(id) {
      const removed = proxy.breakpoints.remove(id);
      if (removed) tell();
      return removed;
    },
    resume(flowId, edits) {
      find(flowId).resume({
        ...(edits.method === undefined ? {} : { method: edits.method }),
        ...(edits.url === undefined ? {} : { url: edits.url }),
        ...(edits.status === undefined ? {} : { status: edits.status }),
        ...(edits.headers === undefined ? {} : { headers: headerMap(edits.headers) }),
        ...(edits.body === undefined ? {} : { body: edits.body }),
      });
    },
    abort(flowId) {
      find(flowId).abort();
    },
    answer(flowId, mock) {
      find(flowId).answer({
        status: mock.status,
        ...(mock.headers === undefined ? {} : { headers: headerMap(mock.headers) }),
        ...(mock.body === undefined ? {} : { body: mock.body }),
      });
    },
    async replay(flowId, edits) {
      const { original, flow } = await proxy.replay(flowId, edits);
      return { original, flow: flow.id, status: flow.response?.status };
    },
  };
  const tell = (): void => changed(actions.state());
  return { actions, tell };
}

/** A held flow as the editor opens it. */
export function heldView(held: HeldFlow): HeldView {
  const { flow, phase } = held;
  const message = phase === 'response' && flow.response ? flow.response : flow.request;
  const body = held.body;
  let note: string | undefined;
  if (body === undefined)
    note = 'the body was not buffered (larger than --max-body-buffer, or a stream): it goes on unchanged unless replaced';
  else if (!isUtf8(body)) note = `binary body (${body.length} bytes): it goes on unchanged unless replaced`;
  return {
    flowId: flow.id,
    phase,
    rule: held.rule,
    heldAt: held.heldAt,
    deadline: held.deadline,
    method: flow.request.method,
    url: flow.request.url,
    status: phase === 'response' ? flow.response?.status : undefined,
    headers: headerPairs(message.wireHeaders()),
    body: body !== undefined && note === undefined ? body.toString('utf8') : undefined,
    bodyNote: note,
  };
}

/** Header pairs as a HeaderMap (names lower-case, repeats as arrays). */
function headerMap(pairs: readonly HeaderPair[]): HeaderMap {
  return headerMapFromRaw(pairs.flat());
}

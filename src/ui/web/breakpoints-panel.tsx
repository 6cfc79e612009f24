import { useState } from 'preact/hooks';
import type { BreakpointState, BreakpointView, FlowSummary, HeldView } from '../api-types.js';
import { callApi } from './actions.js';

/** A held flow as a row of the flow list (tagged `held`), so it shows where it will end up. */
export function heldRow(held: HeldView): FlowSummary {
  let url: URL | undefined;
  try {
    url = new URL(held.url);
  } catch {
    url = undefined;
  }
  return {
    id: held.flowId,
    method: held.method,
    url: held.url,
    host: url?.hostname ?? '',
    path: url ? url.pathname + url.search : held.url,
    status: held.status,
    start: held.heldAt,
    incomplete: false,
    synthetic: false,
    tags: ['held', held.phase],
    webSocket: false,
  };
}

/** The breakpoint rules (filter + side, add and remove) and the flows held now, each opening in the editor. */
export function BreakpointsPanel(props: {
  readonly state: BreakpointState;
  readonly selected: number | undefined;
  readonly onSelect: (flowId: number) => void;
}) {
  const { state } = props;
  const [filter, setFilter] = useState('');
  const [on, setOn] = useState<BreakpointView['on']>('request');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const fail = (error: unknown): void => setProblem(error instanceof Error ? error.message : String(error));
  const add = (event: Event): void => {
    event.preventDefault();
    setProblem(undefined);
    callApi('/breakpoints', { filter, on })
      .then(() => setFilter(''))
      .catch(fail);
  };
  return (
    <section class="breakpoints" data-testid="breakpoints">
      <form class="bp-form" onSubmit={add}>
        <strong>Break on</strong>
        <input
          class="bp-filter"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
          placeholder="filter, e.g. host:api.test method:POST ('' = every flow)"
          aria-label="Breakpoint filter"
          data-testid="bp-filter"
        />
        <select value={on} onChange={(event) => setOn(event.currentTarget.value as BreakpointView['on'])} data-testid="bp-on">
          <option value="request">request</option>
          <option value="response">response</option>
          <option value="both">both</option>
        </select>
        <button type="submit" data-testid="bp-add">
          Add
        </button>
        {state.rules.map((rule) => (
          <span class="chip bp-rule" key={rule.id} data-testid="bp-rule">
            {rule.filter === '' ? '(every flow)' : rule.filter} · {rule.on}{' '}
            <button
              type="button"
              class="link"
              title="Remove this rule"
              onClick={() => callApi(`/breakpoints/${rule.id}`, undefined, 'DELETE').catch(fail)}
            >
              ×
            </button>
          </span>
        ))}
      </form>
      {problem ? <div class="filter-problem">{problem}</div> : null}
      {state.held.length > 0 ? (
        <div class="held-list" data-testid="held-list">
          {state.held.map((held) => (
            <button
              type="button"
              key={`${held.flowId}:${held.phase}`}
              class={`held-row${held.flowId === props.selected ? ' on' : ''}`}
              data-id={held.flowId}
              onClick={() => props.onSelect(held.flowId)}
            >
              ‖ {held.phase} · {held.method} {held.url}
              {held.status === undefined ? '' : ` → ${held.status}`}
            </button>
          ))}
        </div>
      ) : null}
    </section>
  );
}

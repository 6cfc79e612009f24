import { IMPORTED_ID_BASE, type FlowSummary } from '../api-types.js';

/** How a row was clicked: ctrl/⌘ toggles it in the selection, shift adds the run from the last one clicked. */
export interface ClickHow {
  readonly toggle: boolean;
  readonly range: boolean;
}

/** The rows picked for export and pinning, and the row the last click started from. */
export interface Selection {
  readonly ids: ReadonlySet<number>;
  readonly anchor: number | undefined;
}

/** No row picked. */
export const NO_SELECTION: Selection = { ids: new Set(), anchor: undefined };

/** The selection after a click on row `id` of `flows` (the rows shown, in order). */
export function clickSelection(flows: readonly FlowSummary[], current: Selection, id: number, how: ClickHow): Selection {
  if (how.range && current.anchor !== undefined) {
    const from = flows.findIndex((flow) => flow.id === current.anchor);
    const to = flows.findIndex((flow) => flow.id === id);
    if (from >= 0 && to >= 0) {
      const ids = new Set(current.ids);
      for (let i = Math.min(from, to); i <= Math.max(from, to); i++) ids.add((flows[i] as FlowSummary).id);
      return { ids, anchor: current.anchor };
    }
  }
  if (how.toggle) {
    const ids = new Set(current.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: id };
  }
  return { ids: new Set([id]), anchor: id };
}

/** The selection without the rows no longer shown (after a clear or a new filter). */
export function keepShown(flows: readonly FlowSummary[], current: Selection): Selection {
  if (current.ids.size === 0) return current;
  const shown = new Set(flows.map((flow) => flow.id));
  const ids = new Set([...current.ids].filter((id) => shown.has(id)));
  return ids.size === current.ids.size
    ? current
    : { ids, anchor: current.anchor !== undefined && shown.has(current.anchor) ? current.anchor : undefined };
}

/** The id as the list shows it: imported flows as `i1`, `i2`… */
export function shownId(id: number): string {
  return id > IMPORTED_ID_BASE ? `i${id - IMPORTED_ID_BASE}` : `${id}`;
}

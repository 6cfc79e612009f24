import type { FlowSummary } from '../api-types.js';
import { formatIdList } from '../id-list.js';

const API = '/api/v1';

/**
 * What can be done with the picked rows: export them as HAR, pin or unpin them (Clear keeps
 * pinned flows), drop the selection. Nothing shows while no row is picked.
 */
export function SelectionBar(props: {
  readonly ids: ReadonlySet<number>;
  readonly flows: readonly FlowSummary[];
  readonly readOnly: boolean;
  readonly onNone: () => void;
}) {
  const { ids } = props;
  if (ids.size === 0) return null;
  const picked = props.flows.filter((flow) => ids.has(flow.id));
  const allPinned = picked.length > 0 && picked.every((flow) => flow.pinned === true);
  const pin = (pinned: boolean): void => {
    for (const flow of picked) void fetch(`${API}/flows/${flow.id}/pin`, { method: pinned ? 'POST' : 'DELETE' });
  };
  return (
    <div class="selection-bar" data-testid="selection-bar">
      <span>{ids.size} selected</span>
      <a class="button" href={`${API}/har?ids=${formatIdList(ids)}`} download="mitm-selection.har" data-testid="export-selection">
        Export selection as HAR
      </a>
      <button
        type="button"
        onClick={() => pin(!allPinned)}
        disabled={props.readOnly}
        title="Clear keeps pinned flows"
        data-testid="pin-selection"
      >
        {allPinned ? 'Unpin' : 'Pin'}
      </button>
      <button type="button" onClick={props.onNone}>
        Select none
      </button>
    </div>
  );
}

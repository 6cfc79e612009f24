import { useState } from 'preact/hooks';
import type { FlowSummary } from '../api-types.js';
import { formatIdList } from '../id-list.js';
import { API, callApi } from './actions.js';

/**
 * What can be done with the picked rows: export them as HAR, pin or unpin them (Clear keeps
 * pinned flows), drop the selection. Nothing shows while no row is picked. A pin the proxy
 * refuses (a flow its --keep ring has dropped since) is said in the bar, with the API's reason.
 */
export function SelectionBar(props: {
  readonly ids: ReadonlySet<number>;
  readonly flows: readonly FlowSummary[];
  readonly readOnly: boolean;
  readonly onNone: () => void;
}) {
  const { ids } = props;
  const [failure, setFailure] = useState<string | undefined>(undefined);
  if (ids.size === 0) return null;
  const picked = props.flows.filter((flow) => ids.has(flow.id));
  const allPinned = picked.length > 0 && picked.every((flow) => flow.pinned === true);
  const pin = (pinned: boolean): void => {
    setFailure(undefined);
    const calls = picked.map((flow) => callApi(`/flows/${flow.id}/pin`, undefined, pinned ? 'POST' : 'DELETE'));
    void Promise.allSettled(calls).then((results) => {
      const refused = results.flatMap((result) =>
        result.status === 'rejected' ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : [],
      );
      if (refused.length > 0)
        setFailure(`${refused.length} of ${calls.length} could not be ${pinned ? 'pinned' : 'unpinned'}: ${refused[0]}`);
    });
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
      {failure === undefined ? null : (
        <span class="failed" role="alert" data-testid="selection-failure">
          {failure}
        </span>
      )}
    </div>
  );
}

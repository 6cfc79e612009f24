import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { FlowSummary } from '../api-types.js';
import { formatBytes, formatMs, shortType, statusClass } from './format.js';
import { shownId, type ClickHow } from './selection.js';

/** Height of one row in pixels; the list only renders the rows in view (virtualised). */
export const ROW_HEIGHT = 22;
const OVERSCAN = 12;

function markers(flow: FlowSummary): string {
  const marks: string[] = [];
  if (flow.error && flow.error.code !== 'aborted') marks.push('⚠');
  if (flow.incomplete || flow.error?.code === 'aborted') marks.push('✂');
  if (flow.tags.includes('from-recording')) marks.push('↺');
  else if (flow.synthetic || flow.tags.includes('mocked')) marks.push('◆');
  if (flow.tags.includes('replayed')) marks.push('↻');
  if (flow.tags.includes('held')) marks.push('‖');
  if (flow.pinned) marks.push('📌');
  if (flow.imported) marks.push('⇣');
  return marks.join(' ');
}

function titleOf(flow: FlowSummary): string {
  const notes = [flow.url];
  if (flow.error) notes.push(`${flow.error.code}: ${flow.error.message}`);
  if (flow.tags.includes('from-recording')) notes.push('answered from a recording (--serve-from)');
  else if (flow.synthetic) notes.push('answered by a hook or the proxy');
  if (flow.tags.length > 0) notes.push(`tags: ${flow.tags.join(', ')}`);
  if (flow.pinned) notes.push('pinned: Clear keeps it');
  if (flow.imported) notes.push('imported from a HAR file');
  return notes.join('\n');
}

/** The virtualised flow list: keeps to the bottom while the user is there, so new rows stay in view. */
export function FlowList(props: {
  readonly flows: readonly FlowSummary[];
  readonly version: number;
  readonly selected: number | undefined;
  /** Rows picked for export and pinning (checkboxes, ctrl/shift-click). */
  readonly picked: ReadonlySet<number>;
  readonly onSelect: (id: number, how?: ClickHow) => void;
}) {
  const { flows, selected, picked, onSelect } = props;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const follow = useRef(true);

  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const element = box.current;
    if (element && follow.current) {
      element.scrollTop = element.scrollHeight;
      setScrollTop(element.scrollTop);
    }
  }, [props.version, height]);

  const onScroll = (): void => {
    const element = box.current;
    if (!element) return;
    follow.current = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT;
    setScrollTop(element.scrollTop);
  };

  const onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const at = selected === undefined ? -1 : flows.findIndex((flow) => flow.id === selected);
    const next = flows[Math.max(0, Math.min(flows.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))];
    if (!next) return;
    onSelect(next.id);
    const element = box.current;
    const index = flows.indexOf(next);
    if (element && (index * ROW_HEIGHT < element.scrollTop || (index + 1) * ROW_HEIGHT > element.scrollTop + element.clientHeight)) {
      element.scrollTop = index * ROW_HEIGHT - element.clientHeight / 2;
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(flows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const flow = flows[i] as FlowSummary;
    rows.push(
      <div
        key={flow.id}
        class={`row${flow.id === selected ? ' selected' : ''}${picked.has(flow.id) ? ' picked' : ''}${flow.pinned ? ' pinned' : ''}${flow.error && flow.error.code !== 'aborted' ? ' errored' : ''}`}
        style={{ top: `${i * ROW_HEIGHT}px` }}
        data-id={flow.id}
        role="option"
        aria-selected={flow.id === selected}
        title={titleOf(flow)}
        tabIndex={-1}
        onClick={(event) => onSelect(flow.id, { toggle: event.ctrlKey || event.metaKey, range: event.shiftKey })}
        onKeyDown={(event) => {
          if (event.key === 'Enter') onSelect(flow.id);
        }}
      >
        <span class="c-pick">
          <input
            type="checkbox"
            checked={picked.has(flow.id)}
            aria-label={`pick flow ${shownId(flow.id)}`}
            onClick={(event) => {
              event.stopPropagation();
              onSelect(flow.id, { toggle: true, range: event.shiftKey });
            }}
          />
        </span>
        <span class="c-id">{shownId(flow.id)}</span>
        <span class="c-method">{flow.method}</span>
        <span class="c-host">{flow.host}</span>
        <span class="c-path">{flow.path}</span>
        <span class={`c-status ${statusClass(flow.status)}`}>{flow.status ?? (flow.error ? 'ERR' : '')}</span>
        <span class="c-type">{shortType(flow.type, flow.webSocket)}</span>
        <span class="c-size">{formatBytes(flow.size)}</span>
        <span class="c-time">{formatMs(flow.durationMs)}</span>
        <span class="c-marks">{markers(flow)}</span>
      </div>,
    );
  }
  return (
    <div class="flow-list">
      <div class="row header">
        <span class="c-pick" />
        <span class="c-id">#</span>
        <span class="c-method">Method</span>
        <span class="c-host">Host</span>
        <span class="c-path">Path</span>
        <span class="c-status">Status</span>
        <span class="c-type">Type</span>
        <span class="c-size">Size</span>
        <span class="c-time">Time</span>
        <span class="c-marks" />
      </div>
      <div class="rows" ref={box} onScroll={onScroll} tabIndex={0} onKeyDown={onKey} role="listbox" aria-label="Flows" data-testid="rows">
        <div class="rows-inner" style={{ height: `${flows.length * ROW_HEIGHT}px` }}>
          {rows}
        </div>
        {flows.length === 0 ? <div class="empty">No flows yet. Send traffic through the proxy.</div> : null}
      </div>
    </div>
  );
}

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { BreakpointState, ConnectionEvent, FilterProblem, FlowDetail, FlowSummary, PushMessage, UiStats } from '../api-types.js';
import { BreakpointsPanel, heldRow } from './breakpoints-panel.js';
import { ConnectionsTable } from './connections-table.js';
import { DetailPane } from './detail-pane.js';
import { FilterBox } from './filter-box.js';
import { FlowList } from './flow-list.js';
import { HarImport } from './har-import.js';
import { HeldEditor } from './held-editor.js';
import { PushClient } from './push-client.js';
import { ReplayActions } from './replay-actions.js';
import { SelectionBar } from './selection-bar.js';
import { clickSelection, keepShown, NO_SELECTION, type ClickHow, type Selection } from './selection.js';
import { StatusBar } from './status-bar.js';
import { filterFromUrl, filterToUrl } from './url-state.js';

const API = '/api/v1';
const TYPING_DELAY_MS = 150;

/** The inspector page: toolbar, filter, list (or connections), detail, status bar. */
export function App() {
  // The rows live in a ref and grow in place; `version` tells the list to re-render. Copying a
  // 50 000-row array per batch would cost more than the render itself.
  const flows = useRef<FlowSummary[]>([]);
  const [version, setVersion] = useState(0);
  const [text, setText] = useState(filterFromUrl);
  const [problem, setProblem] = useState<FilterProblem | undefined>(undefined);
  const [stats, setStats] = useState<UiStats | undefined>(undefined);
  const [events, setEvents] = useState<readonly ConnectionEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const [view, setView] = useState<'flows' | 'connections'>('flows');
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [detail, setDetail] = useState<FlowDetail | undefined>(undefined);
  const [missing, setMissing] = useState(false);
  const [picks, setPicks] = useState<Selection>(NO_SELECTION);
  const [breakpoints, setBreakpoints] = useState<BreakpointState | undefined>(undefined);
  const [heldSelected, setHeldSelected] = useState<number | undefined>(undefined);
  const held = breakpoints?.held.find((candidate) => candidate.flowId === heldSelected);
  const client = useRef<PushClient | undefined>(undefined);
  const frame = useRef(0);

  const bump = useCallback(() => {
    if (frame.current !== 0) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setVersion((v) => v + 1);
    });
  }, []);

  const onMessage = useCallback(
    (message: PushMessage) => {
      switch (message.type) {
        case 'hello':
        case 'stats':
          setStats(message.stats);
          break;
        case 'reset':
          flows.current = [...message.flows];
          setProblem(undefined);
          setPicks((old) => keepShown(flows.current, old));
          bump();
          break;
        case 'flows':
          flows.current.push(...message.flows);
          bump();
          break;
        case 'connections':
          setEvents((old) => [...old, ...message.events].slice(-5000));
          break;
        case 'filter-error':
          setProblem(message.error);
          break;
        case 'breakpoints':
          setBreakpoints(message.state);
          break;
        case 'cleared': {
          // Pinned flows stay.
          const kept = new Set(message.kept);
          flows.current = flows.current.filter((flow) => kept.has(flow.id));
          setEvents([]);
          setSelected((id) => (id !== undefined && kept.has(id) ? id : undefined));
          setPicks((old) => keepShown(flows.current, old));
          bump();
          break;
        }
        case 'pinned': {
          const at = flows.current.findIndex((flow) => flow.id === message.id);
          const flow = flows.current[at];
          if (flow) flows.current[at] = { ...flow, pinned: message.pinned };
          bump();
          break;
        }
      }
    },
    [bump],
  );

  useEffect(() => {
    const push = new PushClient(onMessage, setConnected);
    client.current = push;
    push.start(text);
    return () => push.close();
  }, []);

  useEffect(() => {
    filterToUrl(text);
    const timer = setTimeout(() => client.current?.subscribe(text), TYPING_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  useEffect(() => {
    if (selected === undefined) return undefined;
    const controller = new AbortController();
    setMissing(false);
    fetch(`${API}/flows/${selected}`, { signal: controller.signal })
      .then(async (res) => {
        if (res.status === 404) {
          setDetail(undefined);
          setMissing(true);
          return;
        }
        setDetail((await res.json()) as FlowDetail);
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [selected]);

  const select = (id: number, how: ClickHow = { toggle: false, range: false }): void => {
    setPicks((old) => clickSelection(flows.current, old, id, how));
    if (!how.toggle && !how.range) setSelected(id);
  };
  const clear = (): void => {
    void fetch(`${API}/clear`, { method: 'POST' });
  };
  const harHref = `${API}/har?filter=${encodeURIComponent(text)}`;
  return (
    <div class={`app${selected === undefined && held === undefined ? '' : ' with-detail'}`}>
      <header class="toolbar">
        <strong class="brand">mitm</strong>
        <div class="views">
          <button type="button" class={view === 'flows' ? 'on' : ''} onClick={() => setView('flows')}>
            Flows
          </button>
          <button
            type="button"
            class={view === 'connections' ? 'on' : ''}
            onClick={() => setView('connections')}
            data-testid="connections-tab"
          >
            Connections ({events.length})
          </button>
        </div>
        <FilterBox text={text} problem={problem} onChange={setText} />
        <a class="button" href={harHref} download="mitm-flows.har" data-testid="export-har">
          Export HAR
        </a>
        <HarImport disabled={stats?.readOnly ?? false} />
        <button
          type="button"
          onClick={clear}
          disabled={stats?.readOnly ?? false}
          title={stats?.readOnly ? 'read-only store' : 'Forget every flow'}
        >
          Clear
        </button>
      </header>
      <SelectionBar ids={picks.ids} flows={flows.current} readOnly={stats?.readOnly ?? false} onNone={() => setPicks(NO_SELECTION)} />
      {breakpoints ? <BreakpointsPanel state={breakpoints} selected={heldSelected} onSelect={setHeldSelected} /> : null}
      <main class="panes">
        {view === 'flows' ? (
          <FlowList
            flows={breakpoints?.held.length ? [...flows.current, ...breakpoints.held.map(heldRow)] : flows.current}
            version={version}
            selected={held ? held.flowId : selected}
            picked={picks.ids}
            onSelect={(id, how) => {
              const isHeld = breakpoints?.held.some((candidate) => candidate.flowId === id) ?? false;
              setHeldSelected(isHeld ? id : undefined);
              if (!isHeld) select(id, how);
            }}
          />
        ) : (
          <ConnectionsTable events={events} />
        )}
        {held ? (
          <HeldEditor key={`${held.flowId}:${held.phase}`} held={held} onClose={() => setHeldSelected(undefined)} />
        ) : selected !== undefined ? (
          <DetailPane
            key={selected}
            flow={detail?.id === selected ? detail : undefined}
            missing={missing}
            onClose={() => {
              setSelected(undefined);
              setDetail(undefined);
            }}
            replay={
              detail?.id === selected ? <ReplayActions flow={detail} onReplayed={setSelected} readOnly={stats?.readOnly ?? false} /> : null
            }
          />
        ) : null}
      </main>
      <StatusBar stats={stats} shown={flows.current.length} connected={connected} />
    </div>
  );
}

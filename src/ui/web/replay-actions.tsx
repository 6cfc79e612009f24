import { useEffect, useState } from 'preact/hooks';
import type { BodyView, FlowDetail, HeaderPair, ReplayAnswer } from '../api-types.js';
import { API, callApi } from './actions.js';
import { editsOf, MessageEditor, seedValue, type EditorSeed } from './message-editor.js';

/** Lines longer than this many per side are not diffed line by line (the LCS table grows as their product). */
const MAX_DIFF_LINES = 400;

/** The flow a replayed flow was replayed from (its `replay-of:ID` tag). */
function replayOf(flow: FlowDetail): number | undefined {
  const tag = flow.tags.find((candidate) => candidate.startsWith('replay-of:'));
  return tag === undefined ? undefined : Number(tag.slice('replay-of:'.length));
}

type DiffLine = readonly ['same' | 'added' | 'removed', string];

/** A line diff (longest common subsequence) of two texts. */
export function diffLines(before: string, after: string): DiffLine[] | undefined {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) return undefined;
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] = a[i] === b[j] ? (table[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(table[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(['same', a[i] as string]);
      [i, j] = [i + 1, j + 1];
    } else if (i < a.length && (j >= b.length || (table[i + 1]?.[j] ?? 0) >= (table[i]?.[j + 1] ?? 0))) {
      // Removed lines before added ones, as diff(1) prints them.
      out.push(['removed', a[i] as string]);
      i += 1;
    } else {
      out.push(['added', b[j] as string]);
      j += 1;
    }
  }
  return out;
}

/** Header changes: fields only in one, or with other values. */
function headerChanges(before: readonly HeaderPair[], after: readonly HeaderPair[]): DiffLine[] {
  const group = (pairs: readonly HeaderPair[]): Map<string, string> => {
    const map = new Map<string, string>();
    for (const [name, value] of pairs) {
      const key = name.toLowerCase();
      map.set(key, map.has(key) ? `${map.get(key)}, ${value}` : value);
    }
    return map;
  };
  const [a, b] = [group(before), group(after)];
  const out: DiffLine[] = [];
  for (const [name, value] of a) if (b.get(name) !== value) out.push(['removed', `${name}: ${value}`]);
  for (const [name, value] of b) if (a.get(name) !== value) out.push(['added', `${name}: ${value}`]);
  return out;
}

function bodyText(body: BodyView | undefined): string {
  if (!body) return '';
  return body.text ?? `(binary, ${body.size} bytes)`;
}

/** A replayed flow against its original: status, headers and body. */
function ReplayDiff(props: { readonly original: FlowDetail; readonly flow: FlowDetail }) {
  const { original, flow } = props;
  const headers = headerChanges(original.responseHeaders, flow.responseHeaders);
  const [before, after] = [bodyText(original.responseBody), bodyText(flow.responseBody)];
  const body = before === after ? [] : diffLines(before, after);
  const lines = (items: readonly DiffLine[]) => (
    <pre class="diff">
      {items.map(([kind, text], index) => (
        <div key={index} class={`diff-${kind}`}>
          {kind === 'added' ? '+ ' : kind === 'removed' ? '- ' : '  '}
          {text}
        </div>
      ))}
    </pre>
  );
  return (
    <section class="replay-diff" data-testid="replay-diff">
      <h3>Against the original #{original.id}</h3>
      <p data-testid="diff-status">
        Status: {original.status === flow.status ? `${flow.status ?? '—'} (same)` : `${original.status ?? '—'} → ${flow.status ?? '—'}`}
      </p>
      <div data-testid="diff-headers">{headers.length === 0 ? <p>Response headers: same</p> : lines(headers)}</div>
      <div data-testid="diff-body">
        {body === undefined ? (
          <p>Response body: differs (too long to diff line by line)</p>
        ) : body.length === 0 ? (
          <p>Response body: same</p>
        ) : (
          lines(body)
        )}
      </div>
    </section>
  );
}

/**
 * Replay as is, or edit the request first (the breakpoint editor) and send; the new flow opens,
 * and a replayed flow shows its diff against the original.
 */
export function ReplayActions(props: { readonly flow: FlowDetail; readonly onReplayed: (id: number) => void; readonly readOnly: boolean }) {
  const { flow } = props;
  const seed: EditorSeed = { method: flow.method, url: flow.url, headers: flow.requestHeaders, body: flow.requestBody?.text };
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(() => seedValue(seed));
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [sending, setSending] = useState(false);
  const [original, setOriginal] = useState<FlowDetail | undefined>(undefined);
  const from = replayOf(flow);

  useEffect(() => {
    if (from === undefined) return undefined;
    const controller = new AbortController();
    fetch(`${API}/flows/${from}`, { signal: controller.signal })
      .then(async (res) => (res.ok ? setOriginal((await res.json()) as FlowDetail) : undefined))
      .catch(() => undefined);
    return () => controller.abort();
  }, [from]);

  const send = (withEdits: boolean): void => {
    setProblem(undefined);
    let edits = {};
    try {
      edits = withEdits ? editsOf(seed, value, 'request') : {};
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
      return;
    }
    setSending(true);
    callApi<ReplayAnswer>(`/flows/${flow.id}/replay`, edits)
      .then((answer) => props.onReplayed(answer.flow))
      .catch((error: unknown) => setProblem(error instanceof Error ? error.message : String(error)))
      .finally(() => setSending(false));
  };
  if (props.readOnly || flow.webSocket) return original ? <ReplayDiff original={original} flow={flow} /> : null;
  return (
    <div class="replay" data-testid="replay">
      <div class="replay-buttons">
        <button type="button" onClick={() => send(false)} disabled={sending} data-testid="replay">
          Replay
        </button>
        <button type="button" onClick={() => setEditing(!editing)} class={editing ? 'on' : ''} data-testid="replay-edit">
          Edit and replay
        </button>
        {from !== undefined ? <span class="tag">replayed from #{from}</span> : null}
      </div>
      {problem ? <div class="error-banner">{problem}</div> : null}
      {editing ? (
        <div class="replay-editor">
          <MessageEditor kind="request" seed={seed} value={value} onChange={setValue} />
          <button type="button" class="primary" onClick={() => send(true)} disabled={sending} data-testid="replay-send">
            Send
          </button>
        </div>
      ) : null}
      {original ? <ReplayDiff original={original} flow={flow} /> : null}
    </div>
  );
}

import { useState } from 'preact/hooks';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// Big containers start folded, and long ones show their first items until asked for more, so a
// 5 MB response renders in one frame.
const OPEN_DEPTH = 2;
const PAGE = 200;

function Value(props: { readonly value: Json }) {
  const { value } = props;
  if (value === null) return <span class="j-null">null</span>;
  if (typeof value === 'string') return <span class="j-str">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span class="j-num">{String(value)}</span>;
  if (typeof value === 'boolean') return <span class="j-bool">{String(value)}</span>;
  return null;
}

function Node(props: { readonly name: string | undefined; readonly value: Json; readonly depth: number; readonly last: boolean }) {
  const { name, value, depth, last } = props;
  const container = typeof value === 'object' && value !== null;
  const entries: Array<[string | undefined, Json]> = !container
    ? []
    : Array.isArray(value)
      ? value.map((item) => [undefined, item])
      : Object.entries(value);
  const [open, setOpen] = useState(depth < OPEN_DEPTH && entries.length <= 500);
  const [shown, setShown] = useState(PAGE);
  const label = name === undefined ? null : <span class="j-key">{JSON.stringify(name)}: </span>;
  const comma = last ? '' : ',';
  if (!container) {
    return (
      <div class="j-line">
        {label}
        <Value value={value} />
        {comma}
      </div>
    );
  }
  const [openBrace, closeBrace] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (!open || entries.length === 0) {
    return (
      <div class="j-line">
        <button type="button" class="j-toggle" onClick={() => setOpen(true)} disabled={entries.length === 0}>
          {entries.length === 0 ? ' ' : '▸'}
        </button>
        {label}
        {openBrace}
        {entries.length === 0 ? '' : <span class="j-more">{` ${entries.length} ${Array.isArray(value) ? 'items' : 'keys'} `}</span>}
        {closeBrace}
        {comma}
      </div>
    );
  }
  return (
    <div>
      <div class="j-line">
        <button type="button" class="j-toggle" onClick={() => setOpen(false)}>
          ▾
        </button>
        {label}
        {openBrace}
      </div>
      <div class="j-children">
        {entries.slice(0, shown).map(([key, item], index) => (
          <Node key={key ?? index} name={key} value={item} depth={depth + 1} last={index === entries.length - 1} />
        ))}
        {entries.length > shown ? (
          <button type="button" class="j-show-more" onClick={() => setShown(shown + PAGE * 5)}>
            {`show ${Math.min(PAGE * 5, entries.length - shown)} more of ${entries.length - shown}`}
          </button>
        ) : null}
      </div>
      <div class="j-line">
        {closeBrace}
        {comma}
      </div>
    </div>
  );
}

/** Parses text as JSON; undefined when it is not. */
export function parseJson(text: string): { value: Json } | undefined {
  try {
    return { value: JSON.parse(text) as Json };
  } catch {
    return undefined;
  }
}

/** A foldable, coloured JSON tree. */
export function JsonTree(props: { readonly value: Json }) {
  return (
    <div class="json-tree" data-testid="json-tree">
      <Node name={undefined} value={props.value} depth={0} last />
    </div>
  );
}

import type { HeaderPair, MessageEdits } from '../api-types.js';

/** What the editor starts from: a held message, or a flow's request to replay. */
export interface EditorSeed {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly status?: number | undefined;
  readonly headers: readonly HeaderPair[];
  readonly body?: string | undefined;
  /** Why the body cannot be shown (binary, not buffered): typing one replaces it. */
  readonly bodyNote?: string | undefined;
}

/** The editor's fields as typed; headers one `Name: value` per line. */
export interface EditorValue {
  readonly method: string;
  readonly url: string;
  readonly status: string;
  readonly headers: string;
  readonly body: string;
}

/** The fields of `seed`, ready to edit. */
export function seedValue(seed: EditorSeed): EditorValue {
  return {
    method: seed.method ?? '',
    url: seed.url ?? '',
    status: seed.status === undefined ? '' : String(seed.status),
    headers: seed.headers.map(([name, value]) => `${name}: ${value}`).join('\n'),
    body: seed.body ?? '',
  };
}

/** `Name: value` lines as pairs; blank lines are skipped. Throws naming a line without a colon. */
export function parseHeaderLines(text: string): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line ${index + 1} has no "name: value": ${line}`);
    pairs.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

/** What changed between `seed` and `value`, as the API takes it; throws for a status or header line that does not parse. */
export function editsOf(seed: EditorSeed, value: EditorValue, kind: 'request' | 'response'): MessageEdits {
  const start = seedValue(seed);
  const edits: { -readonly [K in keyof MessageEdits]: MessageEdits[K] } = {};
  if (kind === 'request' && value.method !== start.method) edits.method = value.method.trim();
  if (kind === 'request' && value.url !== start.url) edits.url = value.url.trim();
  if (kind === 'response' && value.status !== start.status) {
    if (!/^\d{3}$/.test(value.status.trim())) throw new Error(`status ${JSON.stringify(value.status)} is not three digits`);
    edits.status = Number(value.status);
  }
  if (value.headers !== start.headers) edits.headers = parseHeaderLines(value.headers);
  if (value.body !== start.body) edits.body = value.body;
  return edits;
}

/**
 * One editor for a request (method, URL, headers, body) or a response (status, headers, body):
 * the breakpoint editor and "Edit and replay" both use it.
 */
export function MessageEditor(props: {
  readonly kind: 'request' | 'response';
  readonly seed: EditorSeed;
  readonly value: EditorValue;
  readonly onChange: (value: EditorValue) => void;
}) {
  const { kind, value, onChange } = props;
  const set =
    (field: keyof EditorValue) =>
    (event: Event): void =>
      onChange({ ...value, [field]: (event.currentTarget as HTMLInputElement | HTMLTextAreaElement).value });
  return (
    <div class="message-editor" data-testid="message-editor">
      {kind === 'request' ? (
        <div class="editor-line">
          <input class="editor-method" value={value.method} onInput={set('method')} aria-label="Method" data-testid="editor-method" />
          <input class="editor-url" value={value.url} onInput={set('url')} aria-label="URL" data-testid="editor-url" />
        </div>
      ) : (
        <div class="editor-line">
          <label>
            Status{' '}
            <input class="editor-status" value={value.status} onInput={set('status')} aria-label="Status" data-testid="editor-status" />
          </label>
        </div>
      )}
      <label class="editor-label" for="editor-headers">
        Headers (one <code>Name: value</code> per line)
      </label>
      <textarea
        id="editor-headers"
        class="editor-headers"
        rows={Math.min(14, Math.max(4, value.headers.split('\n').length + 1))}
        value={value.headers}
        onInput={set('headers')}
        spellcheck={false}
        data-testid="editor-headers"
      />
      <label class="editor-label" for="editor-body">
        Body
      </label>
      {props.seed.bodyNote ? <p class="muted">{props.seed.bodyNote}</p> : null}
      <textarea
        id="editor-body"
        class="editor-body"
        rows={6}
        value={value.body}
        onInput={set('body')}
        spellcheck={false}
        data-testid="editor-body"
      />
    </div>
  );
}

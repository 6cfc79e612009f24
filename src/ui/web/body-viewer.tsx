import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import type { BodyView } from '../api-types.js';
import { formatBytes } from './format.js';
import { fromBase64, hexDump } from './hex.js';
import { JsonTree, parseJson } from './json-tree.js';

type Mode = 'pretty' | 'raw' | 'hex';

function isJsonType(mime: string): boolean {
  return /(^|\/|\+)json$/.test(mime) || mime === 'text/json';
}

function utf8Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A decoded body: JSON as a tree, images rendered (SVG as image and text), text as is, binary as hex. */
export function BodyViewer(props: { readonly body: BodyView | undefined }) {
  const { body } = props;
  const [mode, setMode] = useState<Mode>('pretty');
  if (body === undefined) return <div class="muted">No body.</div>;
  const mime = body.mimeType;
  const json = body.text !== undefined && (isJsonType(mime) || /^\s*[[{]/.test(body.text)) ? parseJson(body.text) : undefined;
  const image =
    mime.startsWith('image/') && body.base64 !== undefined
      ? `data:${mime};base64,${body.base64}`
      : mime === 'image/svg+xml' && body.text !== undefined
        ? `data:image/svg+xml;base64,${utf8Base64(body.text)}`
        : undefined;
  const bytes = (): Uint8Array => (body.base64 !== undefined ? fromBase64(body.base64) : new TextEncoder().encode(body.text ?? ''));
  let view: ComponentChild;
  if (mode === 'hex') view = <pre class="hex">{hexDump(bytes())}</pre>;
  else if (mode === 'pretty' && json) view = <JsonTree value={json.value} />;
  else if (mode === 'pretty' && image) {
    view = (
      <div class="image-view">
        <img src={image} alt="response body" data-testid="body-image" />
        {body.text !== undefined ? <pre class="text">{body.text}</pre> : null}
      </div>
    );
  } else if (body.text !== undefined) view = <pre class="text">{body.text}</pre>;
  else view = <pre class="hex">{hexDump(bytes())}</pre>;
  return (
    <div class="body-viewer">
      <div class="body-meta">
        <span>
          {mime || 'no type'} · {formatBytes(body.size)}
        </span>
        {body.cut ? (
          <span class="warn" data-testid="body-cut">
            body cut at {body.size} bytes{body.fullLength !== undefined ? ` of ${body.fullLength}` : ''}
          </span>
        ) : null}
        {body.note ? <span class="warn">{body.note}</span> : null}
        <span class="modes">
          {(['pretty', 'raw', 'hex'] as const).map((name) => (
            <button type="button" key={name} class={mode === name ? 'on' : ''} onClick={() => setMode(name)}>
              {name}
            </button>
          ))}
        </span>
      </div>
      {view}
    </div>
  );
}

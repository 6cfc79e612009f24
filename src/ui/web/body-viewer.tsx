import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import type { BodyView } from '../api-types.js';
import { codeLanguage } from './code-language.js';
import { CodeView } from './code-view.js';
import { formatBytes } from './format.js';
import { fromBase64, hexDump } from './hex.js';
import { JsonTree, parseJson } from './json-tree.js';

type Mode = 'pretty' | 'raw' | 'hex';

function utf8Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * A decoded body. pretty: JSON as a tree, images rendered, HTML/JS/CSS/XML highlighted; raw: the
 * text as is (JSON highlighted); hex. An SVG toggles between its image and its (highlighted) text.
 */
export function BodyViewer(props: { readonly body: BodyView | undefined }) {
  const { body } = props;
  const [mode, setMode] = useState<Mode>('pretty');
  if (body === undefined) return <div class="muted">No body.</div>;
  const mime = body.mimeType;
  const text = body.text;
  const language = codeLanguage(mime) ?? (text !== undefined && /^\s*[[{]/.test(text) ? 'json' : undefined);
  const json = text !== undefined && language === 'json' ? parseJson(text) : undefined;
  const svg = mime === 'image/svg+xml' && text !== undefined;
  const image =
    mime.startsWith('image/') && body.base64 !== undefined
      ? `data:${mime};base64,${body.base64}`
      : svg
        ? `data:image/svg+xml;base64,${utf8Base64(text)}`
        : undefined;
  const bytes = (): Uint8Array => (body.base64 !== undefined ? fromBase64(body.base64) : new TextEncoder().encode(text ?? ''));
  let view: ComponentChild;
  if (mode === 'hex' || text === undefined) {
    view = image && mode === 'pretty' ? <Image src={image} /> : <pre class="hex">{hexDump(bytes())}</pre>;
  } else if (mode === 'pretty' && json) view = <JsonTree value={json.value} />;
  else if (mode === 'pretty' && image) view = <Image src={image} />;
  else if (language !== undefined && (mode === 'pretty' || language === 'json' || svg)) {
    view = <CodeView text={text} language={language} />;
  } else view = <pre class="text">{text}</pre>;
  const label = (name: Mode): string => (svg && name === 'pretty' ? 'image' : svg && name === 'raw' ? 'text' : name);
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
        <span class="modes" data-testid="body-modes">
          {(['pretty', 'raw', 'hex'] as const).map((name) => (
            <button type="button" key={name} class={mode === name ? 'on' : ''} onClick={() => setMode(name)} data-mode={name}>
              {label(name)}
            </button>
          ))}
        </span>
      </div>
      {view}
    </div>
  );
}

function Image(props: { readonly src: string }) {
  return (
    <div class="image-view">
      <img src={props.src} alt="response body" data-testid="body-image" />
    </div>
  );
}

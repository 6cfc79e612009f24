import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { CodeLanguage } from './code-language.js';

// Past this, a body shows as plain text: highlighting megabytes would freeze the page.
const MAX_HIGHLIGHTED = 512 * 1024;

/**
 * Text highlighted as `language`: plain at first, coloured once the highlighter chunk has loaded
 * (it is fetched on the first use only); plain for long texts or when the chunk cannot load.
 */
export function CodeView(props: { readonly text: string; readonly language: CodeLanguage }) {
  const { text, language } = props;
  const [html, setHtml] = useState<string | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  const tooLong = text.length > MAX_HIGHLIGHTED;

  useEffect(() => {
    setHtml(undefined);
    if (tooLong) return undefined;
    let live = true;
    import('./highlight.js')
      .then((module) => {
        if (live) setHtml(module.highlight(text, language));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [text, language, tooLong]);

  // A layout effect runs in the same task as the render: the block is never seen empty.
  useLayoutEffect(() => {
    // highlight.js escapes the text it is given, so its output holds no markup of the body's own.
    if (html !== undefined && box.current) box.current.innerHTML = html;
  }, [html]);

  if (html === undefined) {
    return (
      <>
        {tooLong ? <div class="muted">Not highlighted: longer than {MAX_HIGHLIGHTED / 1024} KiB.</div> : null}
        <pre class="text">{text}</pre>
      </>
    );
  }
  return <pre class="text code" ref={box} data-testid="highlighted" data-language={language} />;
}

// The highlighter, loaded on demand (its own chunk, `import('./highlight.js')`): highlight.js's
// core with only the languages bodies need. Its output is class-named spans (no inline styles,
// which the CSP would block); the colours are in highlight.css.
import hljs from 'highlight.js/lib/core';
import css from 'highlight.js/lib/languages/css';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import xml from 'highlight.js/lib/languages/xml';
import type { CodeLanguage } from './code-language.js';

hljs.registerLanguage('xml', xml);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('css', css);
hljs.registerLanguage('json', json);

/** `text` as HTML with highlight.js's class-named spans; the text itself is escaped. */
export function highlight(text: string, language: CodeLanguage): string {
  return hljs.highlight(text, { language, ignoreIllegals: true }).value;
}

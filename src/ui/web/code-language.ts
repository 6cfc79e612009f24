/** The languages the body viewer highlights (highlight.js names; `xml` covers HTML and SVG). */
export type CodeLanguage = 'xml' | 'javascript' | 'css' | 'json';

/** Which highlighter language fits a media type (without parameters); undefined for none. */
export function codeLanguage(mimeType: string): CodeLanguage | undefined {
  const mime = mimeType.toLowerCase();
  if (/(^|\/|\+)json$/.test(mime) || mime === 'text/json') return 'json';
  if (mime === 'text/html' || mime === 'application/xhtml+xml' || /(^|\/|\+)xml$/.test(mime)) return 'xml';
  if (/^(text|application)\/(x-)?(javascript|ecmascript)$/.test(mime) || mime === 'text/jsx') return 'javascript';
  if (mime === 'text/css') return 'css';
  return undefined;
}

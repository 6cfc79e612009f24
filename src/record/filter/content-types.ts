// The short names `type:` accepts, and how a Content-Type (or a WebSocket / event stream) fits one.

/** What a `type:` test looks at. */
export interface TypedMessage {
  readonly contentType: string | undefined;
  readonly isWebSocket: boolean;
  readonly isSse: boolean;
}

const ESSENCE_TESTS: Readonly<Record<string, (essence: string) => boolean>> = {
  json: (e) => e === 'application/json' || e === 'text/json' || e.endsWith('+json'),
  html: (e) => e === 'text/html' || e === 'application/xhtml+xml',
  image: (e) => e.startsWith('image/'),
  js: (e) => /^(?:application|text)\/(?:x-)?(?:javascript|ecmascript)$/.test(e) || e === 'text/jscript',
  css: (e) => e === 'text/css',
  xml: (e) => e === 'application/xml' || e === 'text/xml' || e.endsWith('+xml'),
  font: (e) => e.startsWith('font/') || /^application\/(?:x-)?font-/.test(e) || e === 'application/vnd.ms-fontobject',
};

/** The short names of `type:`, in the order docs/filters.md lists them. */
export const TYPE_ALIASES = ['json', 'html', 'xml', 'image', 'js', 'css', 'font', 'ws', 'sse'] as const;

/** The media type without parameters, lower-case: `text/html; charset=utf-8` → `text/html`. */
export function essenceOf(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  return essence === '' ? undefined : essence;
}

/** True when `value` is a short name or looks like a MIME type (`a/b`, `image/*`). */
export function isTypeValue(value: string): boolean {
  return (TYPE_ALIASES as readonly string[]).includes(value.toLowerCase()) || /^[^/\s]+\/[^/\s]+$/.test(value);
}

/** A test for one `type:` value (checked with isTypeValue first). */
export function typeMatcher(value: string, wildcard: (pattern: string) => RegExp): (message: TypedMessage) => boolean {
  const lower = value.toLowerCase();
  if (lower === 'ws') return (m) => m.isWebSocket;
  if (lower === 'sse') return (m) => m.isSse || essenceOf(m.contentType) === 'text/event-stream';
  const alias = ESSENCE_TESTS[lower];
  const test =
    alias ??
    (
      (pattern: RegExp) => (essence: string) =>
        pattern.test(essence)
    )(wildcard(lower));
  return (m) => {
    const essence = essenceOf(m.contentType);
    return essence !== undefined && test(essence);
  };
}

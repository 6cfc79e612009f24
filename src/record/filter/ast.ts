// The syntax tree of a flow filter (docs/filters.md). Plain data: it can be printed back
// (printer.ts), compared in tests, sent over the wire as JSON, and compiled (matcher.ts).

/** How a number is compared; a bare value in the text means `=` for status, `>=` for size and duration. */
export type Comparison = '=' | '>' | '>=' | '<' | '<=';

/** Fields whose value is kept as the text typed (matching rules in matcher.ts). */
export type TextField = 'host' | 'path' | 'method' | 'type' | 'req' | 'res' | 'mode' | 'sni';

/** One search term: a field test or free text. */
export type TermNode =
  /** Free text: a case-insensitive substring of the URL. */
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'field'; readonly field: TextField; readonly value: string }
  /** `op: 'class'` with `value: 5` is `5xx`. */
  | { readonly kind: 'status'; readonly op: Comparison | 'class'; readonly value: number }
  | { readonly kind: 'size'; readonly op: Comparison; readonly bytes: number }
  | { readonly kind: 'duration'; readonly op: Comparison; readonly ms: number }
  /** `value` undefined: the header is present, whatever its value. */
  | { readonly kind: 'header'; readonly name: string; readonly value: string | undefined }
  /** `code` undefined: every error matches. */
  | { readonly kind: 'error'; readonly code: string | undefined }
  /** `name` undefined: every authenticated user matches. */
  | { readonly kind: 'user'; readonly name: string | undefined };

/** A parsed filter. `all` is the empty filter; `and`/`or` have two items or more. */
export type FilterNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'and'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly item: FilterNode }
  | TermNode;

/** Every field name the language knows, in the order docs/filters.md lists them. */
export const FIELD_NAMES = [
  'host',
  'path',
  'method',
  'status',
  'type',
  'header',
  'req',
  'res',
  'size',
  'duration',
  'error',
  'mode',
  'user',
  'sni',
] as const;

/** A field name. */
export type FieldName = (typeof FIELD_NAMES)[number];

/** True when `name` (lower-case) is a field of the language. */
export function isFieldName(name: string): name is FieldName {
  return (FIELD_NAMES as readonly string[]).includes(name);
}

import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import { SYNC_DECODERS } from '../../flow/decode-sync.js';

/** Media types whose bodies are text even without a charset. */
const TEXTUAL =
  /^(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson|ndjson|yaml|x-yaml|csv|sql)\b)|[+/](?:json|xml)\b/;

/** True when a Content-Type names a textual type. */
export function isTextual(contentType: string | undefined): boolean {
  const essence = (contentType?.split(';')[0] ?? '').trim().toLowerCase();
  return essence !== '' && TEXTUAL.test(essence);
}

/**
 * The decoded text of a textual body, or undefined (not a textual type, an unknown coding, not
 * UTF-8). A `cut` body is the start of a stream: it is inflated as far as it goes, and a character
 * split at the end is dropped. Decoded output is capped at `maxChars` bytes, so a compression bomb
 * costs no more than that.
 */
export function decodedText(
  raw: Buffer,
  options: {
    readonly contentType: string | undefined;
    readonly contentEncoding: string | undefined;
    readonly cut: boolean;
    readonly maxBytes: number;
  },
): string | undefined {
  if (!isTextual(options.contentType)) return undefined;
  const codings = (options.contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  let bytes = raw;
  try {
    for (const coding of codings.reverse()) {
      const decoder = SYNC_DECODERS[coding];
      if (!decoder) return undefined;
      const flush = !options.cut
        ? {}
        : coding === 'br'
          ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }
          : { finishFlush: zlib.constants.Z_SYNC_FLUSH };
      bytes = decoder(bytes, { ...flush, maxOutputLength: Math.max(1, options.maxBytes) });
    }
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: options.cut });
  } catch {
    return undefined;
  }
}

/**
 * The `text` and `text_is_raw` columns of a body: for a textual body sent without a content
 * coding, whole and valid UTF-8, its text is its raw bytes, so the store keeps them once
 * (`text_is_raw` 1, `text` NULL: a 1 KiB JSON body cost 11 µs more to insert with its copy,
 * docs/performance.md); else the decoded text as `decodedText` gives it, or NULL.
 */
export function textColumns(
  raw: Buffer,
  options: Parameters<typeof decodedText>[1],
): { readonly text: string | null; readonly text_is_raw: number } {
  if (!isTextual(options.contentType)) return { text: null, text_is_raw: 0 };
  const coded = (options.contentEncoding ?? '').split(',').some((coding) => !['', 'identity'].includes(coding.trim().toLowerCase()));
  if (!coded && !options.cut && raw.length <= options.maxBytes && isUtf8(raw)) return { text: null, text_is_raw: 1 };
  return { text: decodedText(raw, options) ?? null, text_is_raw: 0 };
}

/** A body row's text, whichever column holds it; undefined when it has none. */
export function rowText(row: { readonly raw: Buffer; readonly text: string | null; readonly text_is_raw: number }): string | undefined {
  return row.text ?? (row.text_is_raw === 1 ? row.raw.toString('utf8') : undefined);
}

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

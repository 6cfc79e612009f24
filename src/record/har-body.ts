import zlib from 'node:zlib';
import { SYNC_DECODERS } from '../flow/decode-sync.js';

/** A recorded body turned into what HAR stores: content-decoded, as text or base64. */
export interface HarBodyText {
  /** Decoded bytes produced (the whole body, or its start when truncated or undecodable). */
  readonly size: number;
  readonly text: string;
  readonly encoding: 'base64' | undefined;
  /** True when the content-encoding was undone (or there was none), so `size` is a decoded size. */
  readonly decoded: boolean;
  /** Why the text is not the decoded body, for the HAR `comment` field. */
  readonly comment: string | undefined;
}

// A recorded body is at most recordBodyLimit bytes, but a compressed one can expand a thousandfold:
// decoded output is capped so one hostile body cannot exhaust memory while the HAR is built.
const MIN_DECODED_CAP = 1024 * 1024;
const EXPANSION_ALLOWED = 16;

/** Media types whose bodies are text even when they carry no charset. */
const TEXTUAL =
  /^(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson|ndjson|yaml|x-yaml|csv|sql)\b)|[+/](?:json|xml)\b/;

/**
 * Decodes `data` (what was sent, still content-encoded) for a HAR. A `truncated` body is the start
 * of a stream, so it is inflated with a sync flush, which yields what the prefix holds instead of
 * failing on the missing end. UTF-8 text of a textual (or unlabelled, printable) type becomes
 * `text`; anything else is base64.
 */
export function harBodyText(
  data: Buffer,
  options: { readonly contentEncoding: string; readonly mimeType: string; readonly truncated: boolean },
): HarBodyText {
  let bytes = data;
  let comment: string | undefined;
  let decoded = true;
  try {
    bytes = decodeContent(data, options.contentEncoding, options.truncated);
  } catch (error) {
    decoded = false;
    const reason = error instanceof Error ? error.message : String(error);
    comment = `could not undo content-encoding ${codingsOf(options.contentEncoding).join(', ')} (${reason}); the text is the body as sent`;
  }
  return { size: bytes.length, decoded, comment, ...textOrBase64(bytes, options.mimeType, options.truncated) };
}

/**
 * A recorded body with its Content-Encoding undone (`partial`: the start of a stream, inflated as
 * far as it goes). Output is capped at `maxOutputLength` (default 16 times the input, at least 1 MiB);
 * throws when a coding is unknown, the data is corrupt, or the cap is reached.
 */
export function decodeContent(
  data: Buffer,
  contentEncoding: string,
  partial: boolean,
  maxOutputLength = Math.max(MIN_DECODED_CAP, data.length * EXPANSION_ALLOWED),
): Buffer {
  const codings = codingsOf(contentEncoding);
  let out = data;
  // Codings are listed in the order applied, so they are undone last-first.
  for (const coding of [...codings].reverse()) {
    const decoder = SYNC_DECODERS[coding];
    if (!decoder) throw new Error(`unsupported coding ${coding}`);
    const flush = !partial
      ? {}
      : coding === 'br'
        ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }
        : { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    try {
      out = decoder(out, { ...flush, maxOutputLength });
    } catch (error) {
      const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw tooLarge ? new Error(`the decoded body exceeds ${maxOutputLength} bytes`) : error;
    }
  }
  return out;
}

function codingsOf(contentEncoding: string): string[] {
  return contentEncoding
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
}

function textOrBase64(bytes: Buffer, mimeType: string, truncated: boolean): { text: string; encoding: 'base64' | undefined } {
  const essence = (mimeType.split(';')[0] ?? '').trim().toLowerCase();
  const text = utf8(bytes, truncated);
  const isText = text !== undefined && (essence === '' || essence === 'x-unknown' ? printable(text) : TEXTUAL.test(essence));
  return isText ? { text, encoding: undefined } : { text: bytes.toString('base64'), encoding: 'base64' };
}

/** The bytes as UTF-8, or undefined when they are not valid UTF-8. */
function utf8(bytes: Buffer, truncated: boolean): string | undefined {
  try {
    // stream: a truncated body may end inside a character; that tail is dropped rather than rejected.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: truncated });
  } catch {
    return undefined;
  }
}

/** True when text has no control characters beyond whitespace: a guess for unlabelled bodies. */
function printable(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point: they mark a body as binary.
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

import { harBodyText } from '../../record/har-body.js';
import type { BodyView } from '../api-types.js';

/** The media type without parameters, lower-case; undefined for none. */
export function mediaType(contentType: string | undefined): string | undefined {
  const essence = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === '' ? undefined : essence;
}

/**
 * A recorded body (as sent, still content-encoded) as the page shows it: decoded, as text when it
 * is text, else base64. Undefined for an empty body that was not cut.
 */
export function bodyView(
  raw: Buffer,
  options: {
    readonly contentEncoding: string;
    readonly contentType: string | undefined;
    readonly cut: boolean;
    readonly fullLength?: number | undefined;
  },
): BodyView | undefined {
  if (raw.length === 0 && !options.cut) return undefined;
  const mimeType = options.contentType ?? '';
  const body = harBodyText(raw, { contentEncoding: options.contentEncoding, mimeType, truncated: options.cut });
  return {
    size: body.size,
    cut: options.cut,
    fullLength: options.fullLength,
    mimeType: mediaType(mimeType) ?? '',
    ...(body.encoding === 'base64' ? { base64: body.text } : { text: body.text }),
    note: body.comment,
  };
}

/** Pairs out of a raw `[name, value, name, value…]` list. */
export function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return pairs;
}

/** The declared Content-Length in a pair list, when it is a plain number. */
export function declaredLength(headers: readonly (readonly [string, string])[]): number | undefined {
  const value = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1].trim() ?? '';
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

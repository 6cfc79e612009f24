import type { OutgoingBody } from '../flow/body.js';
import { getRawHeader, setRawHeader, withoutRawHeader } from '../flow/header-map.js';

/**
 * Restates body framing for our hop. A body a hook replaced gets an exact Content-Length and
 * loses its Content-Encoding (replacements are sent unencoded); one that was only read keeps
 * its Content-Length, or gets one if it came chunked. A
 * streamed body keeps the author's Content-Length, or is sent chunked when it had none: Node
 * only picks chunked framing by itself for methods that usually carry a body.
 */
export function frameBody(raw: string[], body: OutgoingBody, wasChunked: boolean): string[] {
  if (body.kind === 'stream') {
    return wasChunked && getRawHeader(raw, 'content-length') === undefined ? [...raw, 'Transfer-Encoding', 'chunked'] : raw;
  }
  // An unchanged body keeps a declared length: for a HEAD response it describes the GET body.
  if (!body.replaced && getRawHeader(raw, 'content-length') !== undefined) return raw;
  const kept = body.replaced ? withoutRawHeader(raw, 'content-encoding') : raw;
  return setRawHeader(kept, 'Content-Length', String(body.data.length));
}

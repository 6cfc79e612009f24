// The hot path of every streamed body: what stream.pipeline() gives a response, without the
// AbortController, DOMException and end-of-stream watchers it builds per call (~7 % of the proxy's
// busy time under small keep-alive requests, measured with `npm run bench -- --profile`).
import type { Readable, Writable } from 'node:stream';

const ignore = (): void => undefined;

/**
 * Pipes `body` into `to` with backpressure, runs `beforeEnd` (trailers) once the body has ended,
 * then ends `to`. A body that breaks off before its end destroys `to`, so the client sees a cut-off
 * rather than a clean, truncated answer; `to` closing first (the client left) destroys `body`,
 * which frees the origin connection behind it. Errors on either side end up as those closes.
 */
export function relayBody(body: Readable, to: Writable, beforeEnd: () => void): void {
  let ended = false;
  const end = (): void => {
    ended = true;
    beforeEnd();
    to.end();
  };
  // A body may have ended before it got here (an empty request body read to its end by a hook).
  if (body.readableEnded) {
    end();
    return;
  }
  body.on('error', ignore);
  to.on('error', ignore);
  body.once('end', end);
  body.once('close', () => {
    if (!ended) to.destroy();
  });
  to.once('close', () => {
    if (!ended) body.destroy();
  });
  body.pipe(to, { end: false });
}

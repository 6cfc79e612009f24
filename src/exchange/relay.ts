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
 * With `endAt` (a declared length after which nothing, trailers included, can follow), `to` ends
 * as soon as that many bytes went through, without waiting for the body's own end a turn later.
 */
export function relayBody(body: Readable, to: Writable, beforeEnd: () => void, endAt?: number): void {
  let ended = false;
  const end = (): void => {
    if (ended) return;
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
  if (endAt === undefined) return;
  let sent = 0;
  // Registered after pipe's own listener, so it runs once the chunk has been written.
  const onData = (chunk: Buffer): void => {
    sent += chunk.length;
    if (sent < endAt) return;
    body.off('data', onData);
    end();
    // Anything past the declared length is not the client's: read and dropped, freeing the origin.
    body.unpipe(to);
    body.resume();
  };
  body.on('data', onData);
}

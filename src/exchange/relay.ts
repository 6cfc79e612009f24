// The hot path of every streamed body: what stream.pipeline() gives a response, without the
// AbortController, DOMException and end-of-stream watchers it builds per call (~7 % of the proxy's
// busy time under small keep-alive requests, measured with `npm run bench -- --profile`).
import type { Readable, Writable } from 'node:stream';

/** Which side of a relay raised an error: the body (the origin, a decoder, a hook) or the destination (the client). */
export type RelaySide = 'body' | 'destination';

/** What a relay does around the bytes it moves. */
export interface RelayOptions {
  /** Runs once the body has ended, before the destination ends (trailers go here). */
  readonly beforeEnd: () => void;
  /** A declared length after which nothing, trailers included, can follow. */
  readonly endAt?: number | undefined;
  /** Told of each chunk's size as it goes to `to` (bytes past `endAt` are dropped, not counted). */
  readonly onBytes?: (bytes: number) => void;
  /** Told of the first error either side raised; the relay has already torn both down by then, or is about to. */
  readonly onError: (error: Error, side: RelaySide) => void;
}

/**
 * Pipes `body` into `to` with backpressure, runs `beforeEnd` (trailers) once the body has ended,
 * then ends `to`. A body that breaks off before its end destroys `to`, so the client sees a cut-off
 * rather than a clean, truncated answer; `to` closing first (the client left) destroys `body`,
 * which frees the origin connection behind it. Errors on either side end up as those closes, the
 * first of them handed to `onError` so the flow can say why it broke off.
 * With `endAt`, `to` ends as soon as that many bytes went through, without waiting for the body's
 * own end a turn later.
 */
export function relayBody(body: Readable, to: Writable, options: RelayOptions): void {
  const { beforeEnd, endAt } = options;
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
  let failed = false;
  const failure =
    (side: RelaySide) =>
    (error: Error): void => {
      if (failed) return;
      failed = true;
      options.onError(error, side);
    };
  body.on('error', failure('body'));
  to.on('error', failure('destination'));
  body.once('end', end);
  body.once('close', () => {
    if (!ended) to.destroy();
  });
  to.once('close', () => {
    if (!ended) body.destroy();
  });
  body.pipe(to, { end: false });
  const { onBytes } = options;
  if (endAt === undefined) {
    if (onBytes) body.on('data', (chunk: Buffer) => onBytes(chunk.length));
    return;
  }
  let sent = 0;
  // Registered after pipe's own listener, so it runs once the chunk has been written.
  const onData = (chunk: Buffer): void => {
    onBytes?.(chunk.length);
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

// Small writes made in one event-loop turn, sent as one. A TLS socket that decrypts a burst of
// records (64 WebSocket messages a client sent back to back) hands each record's bytes to its
// reader separately; written on one by one, each becomes its own TLS record and its own syscall on
// the other side, and the receiver wakes up for each. Corked for the rest of the turn, they leave
// as one writev: Node's TLS layer joins its buffers into one record (docs/performance.md).
import type { Readable, Writable } from 'node:stream';

/**
 * Returns a function to call before each write to `to`: the first call of a turn corks `to`, and
 * it is uncorked once the turn's I/O callbacks have run (setImmediate), so everything written in
 * between goes out together. Nothing waits longer than that turn.
 */
export function batchWrites(to: Writable): () => void {
  let corked = false;
  const flush = (): void => {
    corked = false;
    to.uncork();
  };
  return () => {
    if (corked || to.destroyed) return;
    corked = true;
    to.cork();
    // Not unref()ed: an unref()ed immediate lets the loop block in its poll for the next I/O,
    // and the corked bytes would wait for it. It runs once, in this turn's check phase.
    setImmediate(flush);
  };
}

/** Pipes `from` into `to` (`from.pipe(to)`), the chunks of each event-loop turn written as one. */
export function pipeBatched(from: Readable, to: Writable): void {
  const batch = batchWrites(to);
  // Ahead of pipe's own 'data' listener, so the first chunk of a turn is held as well.
  from.prependListener('data', batch);
  from.pipe(to);
}

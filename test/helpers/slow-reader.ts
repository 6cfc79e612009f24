import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { within } from './deadline.js';
import type { Origin } from './origin.js';

/** What a slow download measured. */
export interface SlowDownload {
  readonly status: number;
  readonly received: number;
  readonly sha256: string;
  /** How many times the reader found the origin blocked and then caught up. */
  readonly rounds: number;
  /** The most bytes the origin had written that the paused client had not read, at each check. */
  readonly maxInFlight: number;
  /** Peak `rss` growth over the value before the request, sampled at the same checks. */
  readonly peakRssGrowth: number;
}

/**
 * Downloads a `/big` response with a reader that is paused while the origin writes, without timers:
 *
 * 1. The client's response stays paused until the origin reports a stall (`res.write()` returned
 *    false). `probe` (a full request through the proxy on another connection) then runs: it takes
 *    the shared event loop through several turns, so a proxy that still reads the origin lets it
 *    drain meanwhile. A stall that outlives the probe is backpressure reaching the origin.
 * 2. Then the in-flight bytes (origin written − client read) and rss are sampled, the client reads
 *    exactly up to what the origin had written, pauses again, and step 1 repeats until the origin
 *    finishes; the rest is read at full speed.
 *
 * A proxy that reads its origin regardless of its client never blocks the origin for long, so the
 * origin finishes while the client has read next to nothing and the in-flight count at 'finish' is
 * the whole body. A proxy that never resumes the origin after the client caught up fails here on
 * a wait's deadline.
 */
export async function slowDownload(origin: Origin, start: () => ClientRequest, probe: () => Promise<unknown>): Promise<SlowDownload> {
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  let maxInFlight = 0;
  let written = 0;
  let received = 0;
  let stalled = false;
  let finished = false;
  let drains = 0;
  let rounds = 0;
  let wake: (() => void) | undefined;
  const changed = (): void => {
    wake?.();
    wake = undefined;
  };
  // Every step makes progress within the deadline, or the proxy stopped relaying: fail, do not hang.
  const nextChange = (): Promise<void> =>
    within(
      new Promise((resolve) => (wake = resolve)),
      () => `progress (origin wrote ${written}, client read ${received}, stalled ${stalled})`,
    );
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    maxInFlight = Math.max(maxInFlight, written - received);
  };
  const onStall = (at: number): void => {
    written = at;
    stalled = true;
    changed();
  };
  const onDrain = (at: number): void => {
    written = at;
    stalled = false;
    drains += 1;
    changed();
  };
  const onFinish = (at: number): void => {
    written = at;
    finished = true;
    changed();
  };
  origin.big.on('stall', onStall).on('drain', onDrain).on('finish', onFinish);
  try {
    const req = start();
    const [res] = (await within(once(req, 'response'), 'the response head')) as [IncomingMessage];
    // Explicitly paused, so adding the 'data' listener does not switch to flowing mode.
    res.pause();
    const hash = createHash('sha256');
    let target = 0;
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash.update(chunk);
      if (received >= target) res.pause();
      changed();
    });
    const ended = once(res, 'end');

    while (!finished) {
      if (!stalled) {
        await nextChange();
        continue;
      }
      const drainsBefore = drains;
      await probe();
      if (drains !== drainsBefore || finished) continue;
      // Blocked through a whole probe: sample, then catch up with what the origin has written.
      rounds += 1;
      sample();
      target = written;
      res.resume();
      while (received < target) await nextChange();
    }
    sample();
    target = Number.POSITIVE_INFINITY;
    res.resume();
    await within(ended, () => `the end of the body (${received} bytes read)`, 60_000);
    return {
      status: res.statusCode ?? 0,
      received,
      sha256: hash.digest('hex'),
      rounds,
      maxInFlight,
      peakRssGrowth: peakRss - rssBefore,
    };
  } finally {
    origin.big.off('stall', onStall).off('drain', onDrain).off('finish', onFinish);
  }
}

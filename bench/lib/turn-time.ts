// The event loop's turns without the time its thread waited for a core (Linux), for
// bench/mint-burst.ts: on a machine shared with other work, a turn's wall time also holds those
// waits, which swamp a millisecond of our own. /proc/thread-self/schedstat's second field is the
// thread's total wait on a run queue, brought up to date each time it gets a core back; read once
// per turn (a setImmediate chain), wall time minus the growth of that wait is what the turn took.
// (Its first field, time on a CPU, only moves at scheduler ticks: too coarse for a turn.)
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** The longest and the 99th-percentile turn, each without run-queue waits. */
export interface TurnTimes {
  readonly turns: number;
  readonly maxMs: number;
  readonly p99Ms: number;
}

const STAT = '/proc/thread-self/schedstat';

/** Whether this system says how long a thread waited for a core (Linux with schedstats). */
export function turnTimesAvailable(): boolean {
  try {
    return Number.isFinite(waitedNs());
  } catch {
    return false;
  }
}

/**
 * Starts measuring; stop() ends it (after the turn in progress) and returns the figures. Each turn's
 * reading allocates nothing on the JavaScript heap (one file descriptor, one buffer), so the
 * measurement adds no collections to what it measures.
 */
export function measureTurnTimes(): { stop(): Promise<TurnTimes> } {
  const fd = openSync(STAT, 'r');
  const bytes = Buffer.alloc(128);
  let turns = new Float64Array(1 << 14);
  let count = 0;
  let lastWall = performance.now();
  let lastWaited = waitedFrom(fd, bytes);
  let stopping: ((figures: TurnTimes) => void) | undefined;
  const tick = (): void => {
    const waited = waitedFrom(fd, bytes);
    const wall = performance.now();
    if (count === turns.length) {
      const more = new Float64Array(turns.length * 2);
      more.set(turns);
      turns = more;
    }
    turns[count++] = wall - lastWall - (waited - lastWaited) / 1e6;
    lastWall = wall;
    lastWaited = waited;
    if (stopping === undefined) {
      setImmediate(tick);
      return;
    }
    closeSync(fd);
    const sorted = turns.subarray(0, count).sort();
    stopping({
      turns: count,
      maxMs: sorted.at(-1) ?? 0,
      p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0,
    });
  };
  setImmediate(tick);
  return {
    stop: () =>
      new Promise<TurnTimes>((resolve) => {
        stopping = resolve;
      }),
  };
}

function waitedNs(): number {
  return Number(readFileSync(STAT, 'latin1').split(' ')[1]);
}

// The second space-separated decimal of the file, read again from its start.
function waitedFrom(fd: number, bytes: Buffer): number {
  const length = readSync(fd, bytes, 0, bytes.length, 0);
  let at = bytes.indexOf(0x20) + 1;
  let ns = 0;
  for (; at < length && bytes[at] !== 0x20; at++) ns = ns * 10 + ((bytes[at] ?? 0x30) - 0x30);
  return ns;
}

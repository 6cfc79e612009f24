// Where a proxy's memory goes during a transfer: preloaded into a proxy with `node --import`, it
// samples process.memoryUsage() and V8's young-generation size every 20 ms, and on exit writes
// the idle figures (taken as the first client connects), the peak of each, and the breakdown at
// the RSS peak to the file named by MEMORY_PROBE (JSON). For bench/ab.sh, e.g.
//   FLAGS_B="--import $PWD/bench/results/build/bench/memory-probe.js" ENV_B=MEMORY_PROBE=/tmp/b.json \
//     WORKLOAD=download bench/ab.sh
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

interface Sample {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's new space (the two semi-spaces): what its young generation has reserved. */
  readonly newSpace: number;
}

const MiB = 2 ** 20;
const out = process.env.MEMORY_PROBE;
// Diagnosis only: MEMORY_PROBE_GC=minor (or major), with `node --expose-gc`, collects garbage
// before every sample, which tells memory awaiting collection from memory in use.
const gcType = process.env.MEMORY_PROBE_GC;
const exposed = (globalThis as { gc?: (options: { type: string }) => void }).gc;
const forceGc = gcType && exposed ? () => exposed({ type: gcType }) : undefined;

function sample(): Sample {
  const usage = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return {
    rss: usage.rss,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    newSpace: young?.space_size ?? 0,
  };
}

const inMiB = (s: Sample): Record<string, number> =>
  Object.fromEntries(Object.entries(s).map(([key, bytes]) => [key, Math.round((bytes / MiB) * 10) / 10]));

if (out) {
  let idle: Sample | undefined;
  let atPeak: Sample | undefined;
  const peaks: Record<string, number> = {};
  const timer = setInterval(() => {
    if (idle === undefined) return;
    forceGc?.();
    const now = sample();
    if (atPeak === undefined || now.rss > atPeak.rss) atPeak = now;
    for (const [key, bytes] of Object.entries(now)) peaks[key] = Math.max(peaks[key] ?? 0, bytes);
  }, 20);
  timer.unref();
  // Idle: started and ready, before the first connection is handled.
  subscribe('net.server.socket', () => {
    idle ??= sample();
  });
  process.once('exit', () => {
    if (!idle || !atPeak) return;
    const peak = inMiB(peaks as unknown as Sample);
    writeFileSync(out, `${JSON.stringify({ idle: inMiB(idle), atRssPeak: inMiB(atPeak), peak })}\n`);
  });
}

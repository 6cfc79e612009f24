// Measures how much a burst of leaf mints delays the event loop, and what delays it.
// Run: node --import tsx bench/mint-burst.ts [hosts=200]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { initCa } from '../src/ca/authority.js';
import { createLeafMinter } from '../src/ca/mint-leaf.js';
import { createLeafSigner } from '../src/ca/x509.js';

const count = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'mitm-bench-'));
try {
  const { ca } = await initCa(join(dir, 'ca'));
  const minter = await createLeafMinter(ca);
  // Sequential warm-up, so the figures show steady state rather than V8 compiling forge's code.
  for (let i = 0; i < 50; i++) await minter.mint(`warm-${i}.test`);

  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => e.duration)));
  gcObserver.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      await minter.mint(`host-${i}.bench.test`);
      return performance.now() - t0;
    }),
  );
  const wall = performance.now() - start;
  histogram.disable();
  await nextIteration();
  gcObserver.disconnect();

  // The synchronous part of one leaf: signer.sign() runs up to its first await (the native sign).
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = createLeafSigner(ca.certPem, ca.key, publicKey);
  const builds: number[] = [];
  const pending: Array<Promise<string>> = [];
  for (let i = 0; i < count; i++) {
    const spec = { commonName: `b-${i}.test`, altNames: [{ dns: `b-${i}.test` }], notBefore: new Date(), notAfter: new Date() };
    const t0 = performance.now();
    pending.push(signer.sign(spec));
    builds.push(performance.now() - t0);
    await nextIteration();
  }
  await Promise.all(pending);

  const ms = (ns: number): string => (ns / 1e6).toFixed(2);
  console.log(`${count} concurrent mints: ${wall.toFixed(1)} ms wall, ${(wall / count).toFixed(2)} ms per mint`);
  console.log(`mint latency: median ${quantile(latencies, 0.5).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
  // The histogram records whole timer intervals: subtract the 1 ms resolution to get the delay.
  console.log(`event-loop interval: max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms, mean ${ms(histogram.mean)} ms`);
  console.log(`GC pauses during the burst: ${gcPauses.length}, max ${Math.max(0, ...gcPauses).toFixed(2)} ms`);
  console.log(`synchronous build per leaf: median ${quantile(builds, 0.5).toFixed(3)} ms, max ${Math.max(...builds).toFixed(3)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

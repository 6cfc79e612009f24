// Measures how much a burst of new hosts delays the event loop, and what delays it: each host goes
// through the proxy's own path, the certificate cache (leaf minted and signed, then its TLS
// SecureContext built). Then the floor: as many SecureContexts from certificates already made,
// one per turn, which is all a Node proxy cannot avoid doing on its event loop per new host.
// Run: node --import tsx bench/mint-burst.ts [hosts=200]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import { initCa } from '../src/ca/authority.js';
import { createCertCache } from '../src/ca/cert-cache.js';
import { createLeafMinter } from '../src/ca/mint-leaf.js';
import { createLeafSigner } from '../src/ca/x509.js';

const count = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'mitm-bench-'));
try {
  const { ca } = await initCa(join(dir, 'ca'));
  const certs = createCertCache(await createLeafMinter(ca), { max: 1000 });
  // Sequential warm-up, so the figures show steady state rather than V8 compiling forge's code.
  for (let i = 0; i < 50; i++) await certs.get(`warm-${i}.test`);

  // The same span with nothing to do: the floor this (shared, virtual) machine sets on any delay.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 300));
  idle.disable();

  const gcPauses: Array<{ ms: number; kind: string }> = [];
  const gcObserver = new PerformanceObserver((list) =>
    gcPauses.push(
      ...list
        .getEntries()
        .map((e) => ({ ms: e.duration, kind: gcKind((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind) })),
    ),
  );
  gcObserver.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      await certs.get(`host-${i}.bench.test`);
      return performance.now() - t0;
    }),
  );
  const wall = performance.now() - start;
  histogram.disable();
  await nextIteration();
  gcObserver.disconnect();

  // The synchronous part of one leaf: signer.sign() runs up to its first await (the native sign).
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
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
  const leaves = await Promise.all(pending);

  // The floor: the same number of SecureContexts from certificates already made, one per turn,
  // as the cache builds them. No proxy on Node can build a context for less (docs/performance.md).
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const floor = monitorEventLoopDelay({ resolution: 1 });
  const contexts: SecureContext[] = [];
  const contextMs: number[] = [];
  floor.enable();
  for (const certPem of leaves) {
    const t0 = performance.now();
    contexts.push(createSecureContext({ key: keyPem, cert: certPem }));
    contextMs.push(performance.now() - t0);
    await nextIteration();
  }
  floor.disable();

  const ms = (ns: number): string => (ns / 1e6).toFixed(2);
  console.log(`${count} new hosts at once (mint + SecureContext): ${wall.toFixed(1)} ms wall, ${(wall / count).toFixed(2)} ms per mint`);
  console.log(`latency per host: median ${quantile(latencies, 0.5).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
  // The histogram records whole timer intervals: subtract the 1 ms resolution to get the delay.
  console.log(`event-loop interval: max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms, mean ${ms(histogram.mean)} ms`);
  console.log(`event-loop interval with nothing to do (300 ms just before): max ${ms(idle.max)} ms, p99 ${ms(idle.percentile(99))} ms`);
  const longest = gcPauses.reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, kind: 'none' });
  console.log(
    `GC pauses during the burst: ${gcPauses.length}, longest ${longest.ms.toFixed(2)} ms (${longest.kind}); ${gcPauses.map((p) => `${p.kind} ${p.ms.toFixed(1)}`).join(', ')}`,
  );
  console.log(`synchronous build per leaf: median ${quantile(builds, 0.5).toFixed(3)} ms, max ${Math.max(...builds).toFixed(3)} ms`);
  console.log(
    `floor, ${contexts.length} SecureContexts from ready certificates, one per turn: event-loop interval max ${ms(floor.max)} ms, ` +
      `p99 ${ms(floor.percentile(99))} ms; createSecureContext median ${quantile(contextMs, 0.5).toFixed(2)} ms, longest ${Math.max(...contextMs).toFixed(2)} ms`,
  );
  // Issue #17's targets, both against this run's own figures.
  const stall = histogram.max / 1e6;
  const stallRatio = stall / (floor.max / 1e6);
  const oneMint = quantile(builds, 0.5) + quantile(contextMs, 0.5);
  console.log(
    `target: longest stall ≤ 1.5× the SecureContext floor: ${stall.toFixed(2)} ÷ ${ms(floor.max)} ms = ${stallRatio.toFixed(2)}× ${stallRatio <= 1.5 ? 'met' : 'NOT MET'}`,
  );
  console.log(
    `target: no request waits behind more than one mint: one mint's synchronous work ${oneMint.toFixed(2)} ms (median build + median context), ` +
      `longest wait ${stall.toFixed(2)} ms = ${(stall / oneMint).toFixed(2)} mints ${stall <= oneMint ? 'met' : 'NOT MET'}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

function gcKind(kind: number | undefined): string {
  return ({ 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' } as Record<number, string>)[kind ?? 0] ?? `kind ${kind}`;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

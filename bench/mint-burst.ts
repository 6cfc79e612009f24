// Measures how much a burst of new hosts delays the event loop, and what delays it: each host goes
// through the proxy's own path, the certificate cache (leaf minted and signed, then its TLS
// SecureContext built). Meanwhile another client, in a worker thread, pings the loop over a
// loopback socket: how many mints each of its pings waited behind. Then the floor: as many
// SecureContexts from certificates already made, one per turn, which is all a Node proxy cannot
// avoid doing on its event loop per new host.
// Run: node --import tsx bench/mint-burst.ts [hosts=200] [--untuned]
//   --untuned: without the V8 tuning `mitm start` sets for its process (src/cli/memory-tuning.ts),
//   as a library user's process that sets none runs.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import { parseArgs } from 'node:util';

const { positionals, values: flags } = parseArgs({ allowPositionals: true, options: { untuned: { type: 'boolean', default: false } } });
// As the CLI's main.ts does: the flags first, then the engine (a static import would be parsed
// before them; Node's built-in modules above are not parsed from source).
if (!flags.untuned) await import('../src/cli/memory-tuning.js');
const { initCa } = await import('../src/ca/authority.js');
const { createCertCache } = await import('../src/ca/cert-cache.js');
const { createLeafMinter } = await import('../src/ca/mint-leaf.js');
const { createLeafSigner } = await import('../src/ca/x509.js');
const { startPinger } = await import('./lib/pinger.js');
const { measureTurnTimes, turnTimesAvailable } = await import('./lib/turn-time.js');

const count = Number(positionals[0] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'mitm-bench-'));
try {
  const { ca } = await initCa(join(dir, 'ca'));
  const certs = createCertCache(await createLeafMinter(ca), { max: 1000 });
  // Sequential warm-up, so the figures show steady state rather than V8 compiling forge's code.
  for (let i = 0; i < 50; i++) await certs.get(`warm-${i}.test`);

  // Another client of the proxy: pings answered by this loop, each counting the mints that finished
  // between the ping's sending and its answer (the mints it waited behind).
  const pinger = await startPinger();

  // The same span with nothing to do: the floor this (shared, virtual) machine sets on any delay.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  const idleWindow = pinger.window();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const idlePings = await idleWindow.stop();
  idle.disable();

  const gcPauses: Array<{ ms: number; kind: string }> = [];
  const gcObserver = new PerformanceObserver((list) =>
    gcPauses.push(
      ...list
        .getEntries()
        .map((e) => ({ ms: e.duration, kind: gcKind((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind) })),
    ),
  );
  const burstPings = pinger.window();
  gcObserver.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // Each turn without the thread's waits for a core as well: on a shared machine, those swamp our own work.
  const cpuOn = turnTimesAvailable();
  const burstCpu = cpuOn ? measureTurnTimes() : undefined;
  const start = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      await certs.get(`host-${i}.bench.test`);
      pinger.count();
      return performance.now() - t0;
    }),
  );
  const wall = performance.now() - start;
  histogram.disable();
  const burstTurns = await burstCpu?.stop();
  const pings = await burstPings.stop();
  await pinger.close();
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
  const floorCpu = cpuOn ? measureTurnTimes() : undefined;
  for (const certPem of leaves) {
    const t0 = performance.now();
    contexts.push(createSecureContext({ key: keyPem, cert: certPem }));
    contextMs.push(performance.now() - t0);
    await nextIteration();
  }
  const floorTurns = await floorCpu?.stop();
  floor.disable();

  const ms = (ns: number): string => (ns / 1e6).toFixed(2);
  console.log(`${count} new hosts at once (mint + SecureContext): ${wall.toFixed(1)} ms wall, ${(wall / count).toFixed(2)} ms per mint`);
  console.log(`latency per host: median ${quantile(latencies, 0.5).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
  // The histogram records whole timer intervals: subtract the 1 ms resolution to get the delay.
  console.log(`event-loop interval: max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms, mean ${ms(histogram.mean)} ms`);
  console.log(`event-loop interval with nothing to do (300 ms just before): max ${ms(idle.max)} ms, p99 ${ms(idle.percentile(99))} ms`);
  console.log(
    `another client's pings (worker thread, loopback socket): ${pings.count} during the burst, round trip max ${pings.maxMs.toFixed(2)} ms, ` +
      `p99 ${pings.p99Ms.toFixed(2)} ms; with nothing to do (300 ms before) max ${idlePings.maxMs.toFixed(2)} ms`,
  );
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
  const cpuRatio = burstTurns && floorTurns ? burstTurns.maxMs / floorTurns.maxMs : undefined;
  if (burstTurns && floorTurns) {
    console.log(
      `event-loop turns without waits for a core: burst max ${burstTurns.maxMs.toFixed(2)} ms, p99 ${burstTurns.p99Ms.toFixed(2)} ms (${burstTurns.turns} turns); ` +
        `floor max ${floorTurns.maxMs.toFixed(2)} ms, p99 ${floorTurns.p99Ms.toFixed(2)} ms`,
    );
  }
  console.log(
    `target: longest stall ≤ 1.5× the SecureContext floor: ${stall.toFixed(2)} ÷ ${ms(floor.max)} ms = ${stallRatio.toFixed(2)}× ${stallRatio <= 1.5 ? 'met' : 'NOT MET'}` +
      (cpuRatio === undefined ? '' : `; without waits for a core ${cpuRatio.toFixed(2)}× ${cpuRatio <= 1.5 ? 'met' : 'NOT MET'}`),
  );
  console.log(
    `target: no request waits behind more than one mint: the other client's pings waited behind at most ${pings.maxBehind} ` +
      `(${pings.behind.map((n, k) => `${n} pings behind ${k}`).join(', ')}) ${pings.maxBehind <= 1 ? 'met' : 'NOT MET'}; ` +
      `one mint's synchronous work ${oneMint.toFixed(2)} ms (median build + median context), the longest stall ${(stall / oneMint).toFixed(2)}× that`,
  );
  // One line for scripts comparing runs (flags.untuned: without the CLI's V8 tuning).
  console.log(
    `summary ${JSON.stringify({ untuned: flags.untuned, stallMs: round2(stall), floorMs: round2(floor.max / 1e6), ratio: round2(stallRatio), ownMaxMs: round2(burstTurns?.maxMs ?? 0), ownP99Ms: round2(burstTurns?.p99Ms ?? 0), turns: burstTurns?.turns ?? 0, ownFloorMs: round2(floorTurns?.maxMs ?? 0), ownRatio: round2(cpuRatio ?? 0), gcs: gcPauses.length, longestGcMs: round2(longest.ms), maxBehind: pings.maxBehind, pingMaxMs: round2(pings.maxMs), wallMs: Math.round(wall) })}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

function gcKind(kind: number | undefined): string {
  return ({ 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' } as Record<number, string>)[kind ?? 0] ?? `kind ${kind}`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

// `npm run soak -- --minutes N [--workers W] [--svg FILE]`: mixed traffic through a proxy in a child
// process (bench/soak/proxy-child.ts) against local origins, sampling the proxy's RSS, heap, active
// handles and open fds every 10 s (every 2 s for runs under 3 minutes). Exits 1 when any of them
// keeps growing after the warm-up (a fifth of the run, at least 90 s, at most half), when more than
// 1% of scenarios fail unexpectedly, or when fds and handles are not back at their baseline within
// 90 s of idling after the traffic; writes an SVG of the series. All traffic stays on 127.0.0.1.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestPki } from '../test/helpers/pki.js';
import { startSoakOrigins } from './soak/origins.js';
import type { ProxySample } from './soak/proxy-child.js';
import { soakSvg } from './soak/svg.js';
import { Traffic } from './soak/traffic.js';
import { trendOf, type Trend } from './soak/trend.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    workers: { type: 'string', default: '4' },
    svg: { type: 'string', default: 'bench/results/soak.svg' },
  },
});
const minutes = Number(values.minutes);
const workers = Number(values.workers);
if (!(minutes > 0 && minutes <= 24 * 60) || !(workers >= 1 && workers <= 32)) {
  console.error('usage: npm run soak -- --minutes N (0 < N ≤ 1440) [--workers 1..32] [--svg FILE]');
  process.exit(2);
}
const durationMs = minutes * 60_000;
const everyMs = minutes < 3 ? 2_000 : 10_000;
// Origin connections idle out after 60 s, and each new host leaves one: the pools need that long to level off.
const warmupMs = Math.min(durationMs / 2, Math.max(90_000, durationMs / 5));

const pki = await createTestPki();
const origins = await startSoakOrigins(pki.origin);
const hangUp = await hangUpServer();
const deadPort = (hangUp.address() as AddressInfo).port;
const child: ChildProcess = fork(fileURLToPath(new URL('./soak/proxy-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
const [ready] = (await once(child, 'message')) as [{ port: number; caPem: string }];
const traffic = new Traffic({ proxyPort: ready.port, caPem: ready.caPem, h1Port: origins.h1Port, h2Port: origins.h2Port, deadPort });

const started = Date.now();
const times: number[] = [];
const samples: ProxySample[] = [];
const sample = async (): Promise<ProxySample> => {
  const answered = once(child, 'message') as Promise<[{ sample: ProxySample }]>;
  child.send('sample');
  const [{ sample: s }] = await answered;
  return s;
};
const baseline = await sample();
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    await new Promise((resolve) => setTimeout(resolve, everyMs).unref());
    if (!sampling) break;
    const s = await sample();
    times.push((Date.now() - started) / 1000);
    samples.push(s);
    const runs = Object.values(traffic.tally).reduce((n, t) => n + t.runs, 0);
    console.log(
      `${Math.round((Date.now() - started) / 1000)} s: rss ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, handles ${s.handles}, fds ${s.fds}, connections ${s.connections}, scenarios ${runs}`,
    );
  }
})();

await traffic.run(workers, started + durationMs, 10_000_000);
sampling = false;
await sampler;
await traffic.close();
// Then idle: every connection and origin pool should end by its own timeouts (60 s for origins),
// bringing fds and handles back to the baseline. A bounded wait, sampled every 2 s.
const idleStarted = Date.now();
let idle = await sample();
while (Date.now() - idleStarted < 90_000 && (idle.fds > baseline.fds + 5 || idle.handles > baseline.handles + 5 || idle.connections > 0)) {
  await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
  idle = await sample();
}
const idleSeconds = (Date.now() - idleStarted) / 1000;
const idleBack = idle.fds <= baseline.fds + 5 && idle.handles <= baseline.handles + 5 && idle.connections === 0;

const afterWarmup = samples.filter((_, i) => (times[i] ?? 0) * 1000 >= warmupMs);
const trends: Trend[] = [
  trendOf(
    'rss',
    afterWarmup.map((s) => s.rssMiB),
    { relative: 0.1, absolute: 8 },
  ),
  trendOf(
    'heap',
    afterWarmup.map((s) => s.heapMiB),
    { relative: 0.1, absolute: 4 },
  ),
  trendOf(
    'handles',
    afterWarmup.map((s) => s.handles),
    { relative: 0, absolute: 20 },
  ),
  trendOf(
    'fds',
    afterWarmup.map((s) => s.fds),
    { relative: 0, absolute: 20 },
  ),
];
const unexpected = Object.values(traffic.tally).reduce((n, t) => n + t.unexpected, 0);
const runs = Object.values(traffic.tally).reduce((n, t) => n + t.runs, 0);

writeFileSync(
  values.svg,
  soakSvg(
    `mitm soak: ${minutes} min, ${workers} workers, ${runs} scenarios`,
    times,
    [
      { name: 'RSS', unit: 'MiB', values: samples.map((s) => s.rssMiB) },
      { name: 'heap used', unit: 'MiB', values: samples.map((s) => s.heapMiB) },
      { name: 'active handles', unit: 'count', values: samples.map((s) => s.handles) },
      { name: 'open fds', unit: 'count', values: samples.map((s) => s.fds) },
    ],
    warmupMs / 1000,
  ),
);

console.log(`\nscenarios (runs / unexpected failures):`);
for (const [name, t] of Object.entries(traffic.tally)) console.log(`  ${name.padEnd(24)} ${t.runs} / ${t.unexpected}`);
if (traffic.lastError !== '') console.log(`last unexpected failure: ${traffic.lastError}`);
console.log(
  `baseline: rss ${baseline.rssMiB.toFixed(1)} MiB, heap ${baseline.heapMiB.toFixed(1)} MiB, handles ${baseline.handles}, fds ${baseline.fds}`,
);
console.log(
  `idle after traffic (${idleSeconds.toFixed(0)} s, ${idleBack ? 'back at baseline' : 'NOT back at baseline'}): rss ${idle.rssMiB.toFixed(1)} MiB, heap ${idle.heapMiB.toFixed(1)} MiB, handles ${idle.handles}, fds ${idle.fds}, connections ${idle.connections}`,
);
for (const t of trends)
  console.log(
    `${t.name.padEnd(8)} medians by third after warm-up: ${t.medians.map((m) => m.toFixed(1)).join(' → ')}  ${t.growing ? 'GROWING' : 'flat'}`,
  );
console.log(`graph: ${values.svg}`);

child.send('close');
await once(child, 'exit');
await origins.close();
hangUp.close();
await pki.cleanup();
const failed = trends.some((t) => t.growing) || unexpected > runs * 0.01 || !idleBack;
console.log(failed ? 'soak: FAILED' : 'soak: passed');
process.exit(failed ? 1 : 0);

async function hangUpServer(): Promise<Server> {
  const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

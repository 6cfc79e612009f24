// `npm run fuzz -- --seconds N [--seed S] [--concurrency C] [--rss-limit MiB] [--settle S] [--only REGEX]`: the mutation fuzzer
// of bench/fuzz/run-fuzz.ts against a live proxy. Prints the figures; exits 1 on any finding.
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz/run-fuzz.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '48' },
    'rss-limit': { type: 'string', default: '512' },
    settle: { type: 'string', default: '40' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 24 * 3600)) {
  console.error('usage: npm run fuzz -- --seconds N [--seed S] [--concurrency C] [--rss-limit MiB] [--settle S] [--only REGEX]');
  process.exit(2);
}
const started = Date.now();
const report = await runFuzz({
  seconds,
  ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
  concurrency: Number(values.concurrency),
  rssLimitMiB: Number(values['rss-limit']),
  settleSeconds: Number(values.settle),
  ...(values.only === undefined ? {} : { only: new RegExp(values.only, 'i') }),
  log: (line) => console.log(line),
});
const elapsed = (Date.now() - started) / 1000;
console.log(
  `\nseed ${report.seed}: ${report.inputs} inputs in ${report.batches} batches, ${elapsed.toFixed(0)} s (${(report.inputs / elapsed).toFixed(0)} inputs/s)`,
);
console.log(
  `proxy peak RSS ${report.peakRssMiB.toFixed(0)} MiB; at the end fds ${report.lastSample?.fds ?? '?'}, handles ${report.lastSample?.handles ?? '?'}`,
);
if (report.settled)
  console.log(
    `settled after the last batch: ${report.settled.connections} client connections, fds ${report.settled.fds}, handles ${report.settled.handles} (at start: fds ${report.baseline?.fds}, handles ${report.baseline?.handles})`,
  );
console.log('answers:', JSON.stringify(report.answers));
console.log('inputs by seed:', JSON.stringify(report.bySeed));
console.log(`findings: ${report.findings.length}`);
for (const finding of report.findings)
  console.log(`  ${finding.kind} after batch ${finding.batch}: ${finding.detail}\n    inputs: ${finding.saved.join(' ')}`);
process.exit(report.findings.length > 0 ? 1 : 0);

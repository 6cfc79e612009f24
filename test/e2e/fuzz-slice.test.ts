// A CI-sized slice of the mutation fuzzer (bench/fuzz/run-fuzz.ts, `npm run fuzz`): about 30 s of
// mutated HTTP/1.1, CONNECT, ClientHello, SOCKS5, WebSocket and HTTP/2 input against a live proxy,
// with no crash, no hang (a normal request succeeds after every batch) and RSS under the bound.
// The 30 s is the fuzz loop's bound, not a wait; a fixed seed per day keeps failures reproducible.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from '../../bench/fuzz/run-fuzz.js';

test('fuzz slice: no crash, hang or memory blow-up', { timeout: 120_000 }, async () => {
  const seed = Number(process.env.MITM_FUZZ_SEED ?? Math.floor(Date.now() / 86_400_000));
  const report = await runFuzz({ seconds: 30, seed, rssLimitMiB: 512, concurrency: 32 });
  const detail = report.findings.map((f) => `${f.kind} after batch ${f.batch}: ${f.detail} (inputs: ${f.saved.join(' ')})`).join('\n');
  assert.equal(report.findings.length, 0, `seed ${seed} (rerun: MITM_FUZZ_SEED=${seed}):\n${detail}`);
  assert.ok(report.inputs > 200, `only ${report.inputs} inputs were tried`);
});

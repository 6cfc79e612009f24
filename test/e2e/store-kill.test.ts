import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadDriver } from '../../src/record/store/driver.js';
import { openStore } from '../../src/record/store/open-store.js';
import { killBody, tempDir } from '../helpers/store-flows.js';

const CHILD = fileURLToPath(new URL('../helpers/store-writer-child.ts', import.meta.url));

describe('store: a writer killed with SIGKILL', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-kill-');
  });
  after(async () => {
    await temp.remove();
  });

  // Killed on `committed N`: between writes; on `writing N`: while (or just before) a batch is written.
  for (const [round, killOn] of [
    [1, 'committed'],
    [2, 'writing'],
    [3, 'writing'],
    [4, 'writing'],
  ] as const) {
    it(`round ${round}: killed on "${killOn}", reopens with every flow of the committed batches intact`, async (t) => {
      const file = join(temp.dir, `killed-${round}.db`);
      // Stop at a different point each round, so the kill lands at different places in a write.
      const target = 1000 + round * 700;
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // 'close', not 'exit': after the child's stdout is read to its end.
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
      // The highest N the child printed, up to its death: it had appended at most N + 100 flows
      // (it prints at every hundredth append, and stdout to a pipe is synchronous on Linux).
      let printed = 0;
      const committed = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the writer did not commit ${target} flows within 60 s: ${stderr}`)), 60_000);
        let buffered = '';
        let lastCommitted = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            const [word, n] = line.split(' ');
            printed = Math.max(printed, Number(n));
            if (word === 'committed') lastCommitted = Number(n);
            if (word === killOn && Number(n) >= target && child.exitCode === null && !child.killed) {
              clearTimeout(timer);
              // Killed mid-traffic: the writer goes on appending and writing batches meanwhile.
              child.kill('SIGKILL');
              resolve(lastCommitted);
            }
          }
        });
        child.once('exit', () => {
          clearTimeout(timer);
          reject(new Error(`the writer exited early: ${stderr}`));
        });
      });
      assert.equal(await exited, 'SIGKILL');

      const Database = await loadDriver();
      const raw = new Database(file);
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      raw.close();

      const store = await openStore(file, { readonly: true });
      try {
        const ids = store.query({ bodies: false }).map((flow) => flow.proxyFlowId);
        t.diagnostic(`committed ${committed} before the kill; ${ids.length} flows on disk`);
        assert.ok(ids.length >= committed, `${ids.length} flows on disk, ${committed} were committed`);
        // Not `committed + N`: how far the child got between the line that decided the kill and the
        // kill itself depends on how fast this process reacts, which a loaded machine stretches.
        assert.ok(ids.length <= printed + 100, `${ids.length} flows on disk, more than the writer appended (${printed + 100} at most)`);
        assert.deepEqual(
          ids,
          Array.from({ length: ids.length }, (_, i) => i + 1),
          'no gaps, no duplicates',
        );
        for (const flow of store.query({ where: (row) => row.proxyFlowId % 97 === 0 || row.proxyFlowId === committed })) {
          assert.equal(flow.responseBody?.text, killBody(flow.proxyFlowId));
        }
      } finally {
        await store.close();
      }
      // And it opens for writing again, and takes more flows.
      const again = await openStore(file);
      await again.close();
    });
  }
});

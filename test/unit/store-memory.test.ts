import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/record/store/open-store.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';
import { exposeGc } from '../helpers/gc.js';

const TOTAL = 20_000;
const SAMPLE_EVERY = 1000;
const MiB = 2 ** 20;

describe('store: memory and throughput over 20 000 flows', { timeout: 300_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-memory-');
  });
  after(async () => {
    await temp.remove();
  });

  it('RSS does not grow with the number of flows stored', async (t) => {
    const gc = exposeGc();
    const store = await openStore(join(temp.dir, 'many.db'));
    const body = randomBytes(1024).toString('base64');
    const samples: { flows: number; rss: number }[] = [];
    const started = performance.now();
    for (let id = 1; id <= TOTAL; id += 1) {
      store.append(
        makeFlow({
          id,
          method: id % 5 === 0 ? 'POST' : 'GET',
          requestBody: id % 5 === 0 ? body.slice(0, 200) : undefined,
          responseHeaders: ['Content-Type', 'application/json', 'Content-Length', String(body.length + 2)],
          responseBody: `"${body}"`,
        }),
      );
      // Appends arrive between other work in a proxy: give the batch writes their turns.
      if (id % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (id % SAMPLE_EVERY === 0) {
        gc();
        samples.push({ flows: id, rss: process.memoryUsage().rss });
      }
    }
    await store.flush();
    const seconds = (performance.now() - started) / 1000;
    const stats = store.stats();
    await store.close();

    assert.equal(stats.written, TOTAL);
    t.diagnostic(
      `${TOTAL} flows (~1.4 KiB of bodies each) appended and written in ${seconds.toFixed(2)} s: ${Math.round(TOTAL / seconds)} flows/s, ${stats.batches} batches`,
    );
    t.diagnostic(`RSS by flows stored: ${samples.map((s) => `${s.flows / 1000}k=${(s.rss / MiB).toFixed(0)}`).join(' ')} MiB`);
    // Warm-up (page cache, statement caches, JIT) ends well before 5000; compare two later slices.
    const mean = (from: number, to: number): number => {
      const slice = samples.filter((s) => s.flows > from && s.flows <= to);
      return slice.reduce((sum, s) => sum + s.rss, 0) / slice.length;
    };
    const early = mean(5000, 10_000);
    const late = mean(15_000, 20_000);
    t.diagnostic(`mean RSS 5k–10k: ${(early / MiB).toFixed(1)} MiB, 15k–20k: ${(late / MiB).toFixed(1)} MiB`);
    // Keeping the 10 000 flows in between would cost ~30 MiB (their bodies alone are 14 MiB).
    assert.ok(late - early < 12 * MiB, `RSS grew by ${((late - early) / MiB).toFixed(1)} MiB over 10 000 more flows`);
  });
});

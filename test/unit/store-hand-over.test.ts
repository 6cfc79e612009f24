// How queued flows reach the store's writer thread (docs/store.md "Writing"): as rows, 16 at a
// time ahead of their batch's commit, so the proxy's thread does not keep the Flows until the
// batch is written; and the thread's start leaves the V8 flags the process set for itself.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { loadDriver } from '../../src/record/store/driver.js';
import { openStore } from '../../src/record/store/open-store.js';
import type { PackedRows } from '../../src/record/store/row-inserter.js';
import { type BatchOutcome, WriteThread } from '../../src/record/store/write-thread.js';
import { setProcessFlag } from '../../src/v8-flags.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';
import { within } from '../helpers/deadline.js';
import { exposeGc } from '../helpers/gc.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('store: rows handed to the writer thread', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-hand-over-');
  });
  after(async () => {
    await temp.remove();
  });

  it('lets queued flows go once 16 are handed over, and still writes the batch in one transaction', async () => {
    const gc = exposeGc();
    const file = join(temp.dir, 'hand-over.db');
    const store = await openStore(file, { batchSize: 200, flushIntervalMs: 60_000 });
    const Driver = await loadDriver();
    const other = new Driver(file, { readonly: true });
    const count = other.prepare<[], number>('SELECT count(*) FROM flows').pluck();
    try {
      // Made in a function of their own, so that nothing here holds a Flow but the WeakRefs.
      const refs = appendFlows(store, 16);
      await nextTurn();
      await nextTurn();
      await within(
        (async () => {
          // A WeakRef read keeps its target until the turn ends: collect in the next one.
          do {
            await nextTurn();
            gc();
            await nextTurn();
          } while (refs.some((ref) => ref.deref() !== undefined));
        })(),
        'the 16 handed-over flows to be collected',
      );
      assert.equal(count.get(), 0, 'handed over is not written: the batch is not committed');
      await store.flush();
      assert.equal(count.get(), 16);
      const stats = store.stats();
      assert.equal(stats.written, 16);
      assert.equal(stats.batches, 1, 'one transaction for the batch');
    } finally {
      other.close();
      await store.close();
    }
  });

  it('sets the flags this process set for itself again once the writer thread runs', async () => {
    // V8 puts --semi-space-growth-factor back to 2 when it sets up the thread's heap; at 1 the
    // young generation keeps its size (src/cli/memory-tuning.ts).
    setProcessFlag('--semi-space-growth-factor=1');
    const newSpace = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    const before = newSpace();
    const store = await openStore(join(temp.dir, 'flags.db'));
    try {
      store.append(makeFlow({ id: 1 }));
      await store.flush();
      churn();
      const grown = newSpace();
      assert.ok(grown <= Math.max(before, 4 * 2 ** 20), `the young generation grew from ${before} to ${grown} bytes`);
    } finally {
      await store.close();
      setFlagsFromString('--semi-space-growth-factor=2');
    }
  });
});

function appendFlows(store: { append: (flow: ReturnType<typeof makeFlow>) => void }, count: number): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (let id = 1; id <= count; id += 1) {
    const flow = makeFlow({ id });
    refs.push(new WeakRef(flow));
    store.append(flow);
  }
  return refs;
}

/** Allocation with survivors, as a busy proxy's: what makes V8 grow a young generation it may grow. */
function churn(): void {
  let kept: { i: number; s: string }[] = [];
  for (let i = 0; i < 2_000_000; i++) {
    kept.push({ i, s: `x${i}` });
    if (kept.length > 50_000) kept = kept.slice(25_000);
  }
}

describe('store: a writer thread that throws after it has started', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-thread-throws-');
  });
  after(async () => {
    await temp.remove();
  });

  it('fails the waiting commit at once, naming why, instead of blocking settle() for 30 s', async () => {
    const file = join(temp.dir, 'throws.db');
    await (await openStore(file)).close();
    const outcomes: BatchOutcome[] = [];
    const thread = new WriteThread(file, undefined, (outcome) => outcomes.push(outcome));
    // Rows the thread cannot read: its message handler throws, after its module has loaded.
    thread.add(undefined as unknown as PackedRows[]);
    const seq = thread.commit(1);
    // Before, settle() blocked until its 30 s timeout and threw, the outcome never delivered.
    thread.settle();
    assert.equal(outcomes.length, 1, JSON.stringify(outcomes));
    assert.equal(outcomes[0]?.seq, seq);
    assert.equal(outcomes[0]?.failed, 1);
    assert.match(outcomes[0]?.error ?? '', /its writer thread failed: it failed: /);
    // Later commits fail at once too, and close() does not wait on a thread that is gone.
    const next = thread.commit(2);
    assert.equal(outcomes.at(-1)?.seq, next);
    assert.equal(outcomes.at(-1)?.failed, 2);
    await within(thread.close(), 'close');
  });
});

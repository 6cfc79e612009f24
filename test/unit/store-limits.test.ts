import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMitmError } from '../../src/errors.js';
import { loadDriver } from '../../src/record/store/driver.js';
import { openStore } from '../../src/record/store/open-store.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';

/** One turn of the event loop: immediates queued before it have run when it resolves. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('store: cutting, batching, bounded memory, pruning', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-limits-');
  });
  after(async () => {
    await temp.remove();
  });

  it('cuts bodies and messages over storeBodyLimit, and keeps the recorder cut marked', async () => {
    const store = await openStore(join(temp.dir, 'cut.db'), { storeBodyLimit: 1000 });
    try {
      const long = 'x'.repeat(5000);
      store.append(
        makeFlow({ id: 1, responseBody: long, webSocket: [{ direction: 'server-to-client', type: 'text', data: Buffer.from(long) }] }),
      );
      // The recorder kept 100 of 500 bytes (--record-body-limit): the store says so too.
      store.append(
        makeFlow({
          id: 2,
          recordLimit: 100,
          responseHeaders: ['Content-Type', 'text/plain', 'Content-Length', '500'],
          responseBody: 'y'.repeat(500),
        }),
      );
      store.append(makeFlow({ id: 3, responseBody: 'z'.repeat(1000) }));
      const [cutHere, cutByRecorder, whole] = store.query();
      assert.equal(cutHere?.responseBody?.raw.length, 1000);
      assert.equal(cutHere?.responseBody?.cut, true);
      assert.equal(cutHere?.responseBody?.fullLength, 5000);
      assert.equal(cutHere?.responseBody?.text, 'x'.repeat(1000));
      assert.equal(cutHere?.webSocketMessages[0]?.data.length, 1000);
      assert.equal(cutHere?.webSocketMessages[0]?.cut, true);
      assert.equal(cutHere?.webSocketMessages[0]?.size, 5000);
      assert.equal(cutByRecorder?.responseBody?.raw.length, 100);
      assert.equal(cutByRecorder?.responseBody?.cut, true);
      assert.equal(cutByRecorder?.responseBody?.fullLength, 500);
      assert.equal(whole?.responseBody?.cut, false);
      assert.equal(store.stats().cutBodies, 2);
    } finally {
      await store.close();
    }
  });

  it('writes a batch on the next turn once batchSize flows are queued, not inside append', async () => {
    const store = await openStore(join(temp.dir, 'batch.db'), { batchSize: 10, flushIntervalMs: 60_000 });
    try {
      for (let id = 1; id <= 9; id += 1) store.append(makeFlow({ id }));
      await nextTurn();
      assert.equal(store.stats().written, 0, 'fewer than batchSize wait for the timer');
      store.append(makeFlow({ id: 10 }));
      assert.equal(store.stats().written, 0, 'append only queues');
      await nextTurn();
      assert.deepEqual(
        { ...store.stats(), batches: undefined },
        { appended: 10, written: 10, queued: 0, batches: undefined, syncFlushes: 0, failedFlows: 0, prunedFlows: 0, cutBodies: 0 },
      );
    } finally {
      await store.close();
    }
  });

  it('writes what is queued flushIntervalMs after the first append', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const store = await openStore(join(temp.dir, 'timer.db'), { batchSize: 100, flushIntervalMs: 50 });
    try {
      store.append(makeFlow({ id: 1 }));
      t.mock.timers.tick(49);
      assert.equal(store.stats().written, 0);
      t.mock.timers.tick(1);
      assert.equal(store.stats().written, 1);
    } finally {
      await store.close();
    }
  });

  it('holds at most maxQueue flows: the one that fills the queue writes it synchronously, none dropped', async () => {
    const store = await openStore(join(temp.dir, 'queue.db'), { batchSize: 1000, maxQueue: 50, flushIntervalMs: 60_000 });
    try {
      for (let id = 1; id <= 49; id += 1) store.append(makeFlow({ id }));
      assert.equal(store.stats().queued, 49);
      store.append(makeFlow({ id: 50 }));
      assert.equal(store.stats().queued, 0);
      assert.equal(store.stats().written, 50);
      assert.equal(store.stats().syncFlushes, 1);
      assert.equal(store.count(), 50);
    } finally {
      await store.close();
    }
  });

  it('prunes the oldest flows once the database exceeds maxSize', async () => {
    const file = join(temp.dir, 'pruned.db');
    const maxSize = 256 * 1024;
    const store = await openStore(file, { maxSize, batchSize: 20 });
    for (let id = 1; id <= 200; id += 1) {
      store.append(makeFlow({ id, responseHeaders: ['Content-Type', 'application/octet-stream'], responseBody: randomBytes(8 * 1024) }));
      if (id % 20 === 0) await store.flush();
    }
    const kept = store.query({ bodies: false }).map((flow) => flow.proxyFlowId);
    const stats = store.stats();
    await store.close();
    assert.ok(kept.length > 10 && kept.length < 40, `kept ${kept.length} flows`);
    assert.equal(kept[kept.length - 1], 200, 'the newest flow stays');
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => 201 - kept.length + i),
      'the oldest go first',
    );
    assert.equal(stats.prunedFlows, 200 - kept.length);
    const size = (await stat(file)).size;
    assert.ok(size <= maxSize + 64 * 1024, `file is ${size} bytes`);
  });

  it('a batch the writer thread cannot write: flush() throws it, a background write reports it, and the store goes on', async () => {
    const file = join(temp.dir, 'refused.db');
    const errors: Error[] = [];
    const store = await openStore(file, { batchSize: 2, onError: (error) => errors.push(error) });
    // Another connection makes every INSERT into flows fail, as a full disk would.
    const Driver = await loadDriver();
    const other = new Driver(file);
    try {
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON flows BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
      store.append(makeFlow({ id: 1 }));
      await assert.rejects(
        store.flush(),
        (error: unknown) =>
          isMitmError(error) && error.code === 'store_failed' && error.message.includes(file) && /refused by the test/.test(error.message),
      );
      store.append(makeFlow({ id: 2 }));
      store.append(makeFlow({ id: 3 }));
      await nextTurn();
      assert.equal(store.stats().failedFlows, 3);
      assert.match(String(errors[0]), /cannot write 2 flows to the store .*refused by the test/);
      other.exec('DROP TRIGGER refuse');
      store.append(makeFlow({ id: 4 }));
      await store.flush();
      assert.deepEqual(
        store.query().map((flow) => flow.proxyFlowId),
        [4],
      );
    } finally {
      other.close();
      await store.close();
    }
  });
});

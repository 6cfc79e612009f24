// The store follower (record/store/follow-store.ts) with a real writer and a read-only reader on
// one file, in one process: what is new, filters, and waiting for a store to be created.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMitmError } from '../../src/errors.js';
import { whereFilter } from '../../src/record/store/where-filter.js';
import { followStore, lastStoredId, openStoreWhenReady } from '../../src/record/store/follow-store.js';
import { openStore, type SessionStore } from '../../src/record/store/open-store.js';
import type { StoredFlow } from '../../src/record/store/types.js';
import { within } from '../helpers/deadline.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';

/** Collects what a follower hands out and lets a test wait for a count. */
class Batches {
  readonly flows: StoredFlow[] = [];
  #wake = (): void => undefined;
  readonly onFlows = (flows: StoredFlow[]): void => {
    this.flows.push(...flows);
    this.#wake();
  };
  until(count: number): Promise<void> {
    const reached = new Promise<void>((resolve) => {
      this.#wake = () => {
        if (this.flows.length >= count) resolve();
      };
      this.#wake();
    });
    return within(reached, () => `${count} flows from the follower; got ${this.flows.map((flow) => flow.url).join(', ')}`);
  }
}

describe('store follower', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-follow-');
  });
  after(async () => {
    await temp.remove();
  });

  it('hands out flows committed after it started, oldest first, the filter applied, bodies when asked', async () => {
    const file = join(temp.dir, 'follow.db');
    const writer = await openStore(file, { flushIntervalMs: 1 });
    const reader = await openStore(file, { readonly: true });
    try {
      writer.append(makeFlow({ id: 1, url: 'https://a.test/old' }));
      await writer.flush();
      assert.equal(lastStoredId(reader), 1);
      const batches = new Batches();
      const follower = followStore(reader, { where: whereFilter('host:a.test'), bodies: true, onFlows: batches.onFlows });
      try {
        writer.append(makeFlow({ id: 2, url: 'https://b.test/skip' }));
        writer.append(makeFlow({ id: 3, url: 'https://a.test/new', responseBody: 'fresh' }));
        await batches.until(1);
        writer.append(makeFlow({ id: 4, url: 'https://a.test/newer' }));
        await batches.until(2);
        assert.deepEqual(
          batches.flows.map((flow) => flow.url),
          ['https://a.test/new', 'https://a.test/newer'],
        );
        assert.equal(batches.flows[0]?.responseBody?.text, 'fresh');
        // Rows the filter left out still move the cursor on.
        assert.equal(follower.lastId, 4);
      } finally {
        follower.close();
      }
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('poll() reads at once; a throwing onFlows is reported and the follower goes on', async () => {
    const file = join(temp.dir, 'poll.db');
    const writer = await openStore(file);
    const reader = await openStore(file, { readonly: true });
    const errors: unknown[] = [];
    const seen: string[] = [];
    const follower = followStore(reader, {
      after: 0,
      onFlows: (flows) => {
        seen.push(...flows.map((flow) => flow.url));
        if (seen.length === 1) throw new Error('listener broke');
      },
      onError: (error) => errors.push(error),
    });
    try {
      writer.append(makeFlow({ id: 1, url: 'https://a.test/1' }));
      await writer.flush();
      follower.poll();
      assert.deepEqual(seen, ['https://a.test/1']);
      assert.match(String(errors[0]), /listener broke/);
      writer.append(makeFlow({ id: 2, url: 'https://a.test/2' }));
      await writer.flush();
      follower.poll();
      follower.poll();
      assert.deepEqual(seen, ['https://a.test/1', 'https://a.test/2']);
    } finally {
      follower.close();
      await reader.close();
      await writer.close();
    }
  });

  it('reads a burst in pages: at most 16 flows with bodies per batch, none lost or repeated', async () => {
    const file = join(temp.dir, 'burst.db');
    const writer = await openStore(file);
    const reader = await openStore(file, { readonly: true });
    const sizes: number[] = [];
    const ids: number[] = [];
    const follower = followStore(reader, {
      after: 0,
      bodies: true,
      onFlows: (flows) => {
        sizes.push(flows.length);
        ids.push(...flows.map((flow) => flow.proxyFlowId));
      },
    });
    try {
      for (let id = 1; id <= 40; id += 1) writer.append(makeFlow({ id, responseBody: `body ${id}` }));
      await writer.flush();
      follower.poll();
      assert.deepEqual(sizes, [16, 16, 8]);
      assert.deepEqual(
        ids,
        Array.from({ length: 40 }, (_, at) => at + 1),
      );
    } finally {
      follower.close();
      await reader.close();
      await writer.close();
    }
  });

  it('openStoreWhenReady waits for a missing or empty file, opens it once a store, and stops on abort', async () => {
    const file = join(temp.dir, 'later.db');
    await writeFile(file, '');
    let waiting = 0;
    const opening = openStoreWhenReady(file, { onWaiting: () => (waiting += 1), pollMs: 50 });
    const writer: SessionStore = await openStore(file);
    const reader = await within(opening, 'the store to be opened once created');
    assert.ok(reader);
    assert.equal(waiting, 1);
    await reader.close();
    await writer.close();

    const aborted = new AbortController();
    const never = openStoreWhenReady(join(temp.dir, 'never.db'), { signal: aborted.signal });
    aborted.abort();
    assert.equal(await within(never, 'the wait to end on abort'), undefined);
  });

  it('openStoreWhenReady fails at once for a missing folder and for a file that is not a store', async () => {
    await assert.rejects(openStoreWhenReady(join(temp.dir, 'nope', 'x.db')), (error: unknown) => {
      assert.ok(isMitmError(error) && error.code === 'store_failed', String(error));
      assert.match(error.message, /nope does not exist/);
      return true;
    });
    const text = join(temp.dir, 'notes.txt');
    await writeFile(text, 'not a database at all, just some text that is long enough to have a header');
    await assert.rejects(openStoreWhenReady(text), (error: unknown) => isMitmError(error) && error.code === 'store_invalid');
  });
});

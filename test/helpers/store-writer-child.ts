// A process that appends flows to a store in a loop until it is killed. Every 100 flows it prints
// `writing N`, writes the queue, and prints `committed N` (every flow up to id N is on disk).
// Run by test/e2e/store-kill.test.ts.
import { openStore } from '../../src/record/store/open-store.js';
import { killBody, makeFlow } from './store-flows.js';

const file = process.argv[2];
if (!file) throw new Error('usage: store-writer-child.ts FILE');
const store = await openStore(file, { batchSize: 40, flushIntervalMs: 2 });
for (let id = 1; ; id += 1) {
  store.append(makeFlow({ id, responseBody: killBody(id) }));
  if (id % 100 === 0) {
    process.stdout.write(`writing ${id}\n`);
    await store.flush();
    process.stdout.write(`committed ${id}\n`);
  }
  // Let the batch and timer writes run between appends, as they would between requests.
  if (id % 10 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
}

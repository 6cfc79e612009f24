// `mitm tail` prints stored flows with the proxy's own printer: a flow's detail read back from the
// store must equal the detail the proxy printed for it live, level by level.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detailLines } from '../../src/cli/output/detail-text.js';
import { flowDetail } from '../../src/cli/output/flow-detail.js';
import { formatFlow } from '../../src/cli/output/flow-log.js';
import { recordOfStored } from '../../src/cli/output/flows-format.js';
import { storedFlowDetail } from '../../src/cli/output/stored-detail.js';
import { PLAIN } from '../../src/cli/output/term-style.js';
import type { Flow } from '../../src/flow/flow.js';
import { openStore } from '../../src/record/store/open-store.js';
import type { StoredFlow } from '../../src/record/store/types.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';

describe('stored flow detail', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  const pairs: Array<{ live: Flow; stored: StoredFlow }> = [];

  before(async () => {
    temp = await tempDir('mitm-stored-detail-');
    const flows = [
      makeFlow({
        id: 1,
        method: 'POST',
        requestHeaders: ['Host', 'example.test', 'Content-Type', 'application/json'],
        requestBody: '{"q":[1,2]}',
        responseHeaders: ['Content-Type', 'application/json', 'X-Trace', 'abc'],
        responseBody: JSON.stringify({ ok: true, items: ['é'.repeat(30)] }),
        tags: ['mocked'],
      }),
      makeFlow({ id: 2, responseHeaders: ['Content-Type', 'image/png'], responseBody: Buffer.from([0, 1, 2, 255]) }),
      makeFlow({
        id: 3,
        url: 'wss://example.test/chat',
        status: 101,
        responseHeaders: ['Upgrade', 'websocket'],
        webSocket: [
          { direction: 'client-to-server', type: 'text', data: Buffer.from('hello') },
          { direction: 'server-to-client', type: 'binary', data: Buffer.from([9, 9]) },
        ],
      }),
    ];
    const store = await openStore(join(temp.dir, 'detail.db'));
    try {
      for (const flow of flows) store.append(flow, { status: flow.response?.status, responseBytes: 10, durationMs: 9 });
      const stored = store.query();
      flows.forEach((live, at) => {
        const read = stored[at];
        assert.ok(read);
        pairs.push({ live, stored: read });
      });
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await temp.remove();
  });

  for (const level of [1, 2, 3, 4]) {
    it(`level ${level}: the same fields and lines as the live flow's`, () => {
      for (const { live, stored } of pairs) {
        const expected = flowDetail(live, level, 24);
        assert.deepEqual(storedFlowDetail(stored, level, 24), expected, stored.url);
        assert.deepEqual(detailLines(storedFlowDetail(stored, level, 24), PLAIN), detailLines(expected, PLAIN));
      }
    });
  }

  it("the line is the proxy's: method, URL, status, type, size, duration, and the proxy's flow id", () => {
    const { stored } = pairs[0] ?? assert.fail('no flows');
    const record = recordOfStored(stored);
    assert.equal(record.id, 1);
    assert.equal(formatFlow(record), 'POST https://example.test/items/1?q=1 200 application/json 10 B 9 ms');
  });
});

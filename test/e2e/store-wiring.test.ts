import assert from 'node:assert/strict';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilterError, openStore, replay, startProxy, storedToHar } from '../../src/index.js';
import { harCreator } from '../../src/record/har-creator.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy } from '../helpers/proxy.js';
import { tempDir } from '../helpers/store-flows.js';
import { startStoreOrigin, type StoreOrigin } from '../helpers/store-origin.js';

// --store wired into the proxy: real curl traffic through startProxy({ store }), read back with
// proxy.query and openStore, across a restart; bad paths; replay through a recording proxy.
describe('store wiring', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let origin: StoreOrigin;
  let temp: Awaited<ReturnType<typeof tempDir>>;

  before(async () => {
    pki = await createTestPki();
    origin = await startStoreOrigin(pki.origin);
    temp = await tempDir('mitm-store-wiring-');
  });
  after(async () => {
    await origin?.close();
    await pki?.cleanup();
    await temp?.remove();
  });

  it('records every flow, bodies beyond --keep 0, and keeps them across a restart', async () => {
    const file = join(temp.dir, 'restart.db');
    const first = await startTestProxy(pki, { store: file, keep: 0 });
    try {
      for (const path of ['/json', '/text', '/gz', '/missing']) {
        const result = await curlVia(first.url, [`${origin.url}${path}`], first.caPath);
        assert.equal(result.exitCode, 0, result.stderr);
      }
      await first.flows.waitFor((flow) => flow.url.endsWith('/missing'));
      const json = first.proxy.query('path:/json');
      assert.equal(json.length, 1);
      assert.equal(json[0]?.responseBody?.text, JSON.stringify({ version: 1, path: '/json' }));
      assert.equal(first.proxy.query('status:404').length, 1);
      assert.equal(first.proxy.query('res:compressed').length, 1, 'the gzip body is searchable decoded');
      assert.deepEqual(
        first.proxy.query('', { order: 'desc', limit: 2 }).map((flow) => flow.path),
        ['/missing', '/gz'],
      );
    } finally {
      await first.close();
    }
    const second = await startTestProxy(pki, { store: file });
    try {
      await curlVia(second.url, [`${origin.url}/text?again=1`], second.caPath);
      await second.flows.waitFor((flow) => flow.url.includes('again'));
      assert.equal(second.proxy.query('').length, 5);
      const [again] = second.proxy.query('again');
      assert.equal(again?.proxyFlowId, 1, 'flow ids restart with the proxy; store ids do not');
      assert.equal(again?.id, 5);
    } finally {
      await second.close();
    }
    const reader = await openStore(file, { readonly: true });
    try {
      assert.equal(reader.count(), 5);
      assert.deepEqual(
        reader.query('host:localhost -status:404').map((flow) => flow.path),
        ['/json', '/text', '/gz', '/text?again=1'],
      );
    } finally {
      await reader.close();
    }
  });

  it('proxy.query without a store filters the in-memory ring; a bad filter throws FilterError naming the column', async () => {
    const mitm = await startTestProxy(pki);
    try {
      await curlVia(mitm.url, [`${origin.url}/json?ring=1`], mitm.caPath);
      await mitm.flows.waitFor((flow) => flow.url.includes('ring'));
      const [flow] = mitm.proxy.query('type:json ring');
      assert.equal(flow?.status, 200);
      assert.equal(flow?.responseBody?.text, JSON.stringify({ version: 1, path: '/json?ring=1' }));
      assert.throws(
        () => mitm.proxy.query('status:200 stauts:404'),
        (error: unknown) => error instanceof FilterError && /at column 12: unknown field "stauts"/.test(error.message),
      );
    } finally {
      await mitm.close();
    }
  });

  it('refuses a folder, a missing folder, an unwritable folder and a non-store file, naming the path', async () => {
    const notStore = join(temp.dir, 'notes.txt');
    await writeFile(notStore, 'this is not SQLite\n'.repeat(100));
    const locked = join(temp.dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const cases = [
      { path: temp.dir, code: 'store_failed' },
      { path: join(temp.dir, 'no', 'such', 'dir', 'f.db'), code: 'store_failed' },
      { path: notStore, code: 'store_invalid' },
      ...(process.getuid?.() === 0 ? [] : [{ path: join(locked, 'f.db'), code: 'store_failed' }]),
    ];
    for (const { path, code } of cases) {
      await assert.rejects(
        startProxy({ port: 0, ca: join(temp.dir, 'ca'), store: path }),
        (error: { code?: string; message?: string }) => error.code === code && (error.message ?? '').includes(path),
        path,
      );
    }
  });

  it('a HAR of the store equals proxy.har() of the same flows', async () => {
    const file = join(temp.dir, 'har.db');
    const mitm = await startTestProxy(pki, { store: file });
    try {
      for (const path of ['/json', '/gz', '/set-cookie', '/missing']) await curlVia(mitm.url, [`${origin.url}${path}`], mitm.caPath);
      await curlVia(mitm.url, ['--data-binary', 'a=1&b=two', `${origin.url}/echo`], mitm.caPath);
      await mitm.flows.waitFor((flow) => flow.url.endsWith('/echo'));
      const live = mitm.proxy.har();
      const stored = storedToHar(mitm.proxy.query(''), harCreator());
      assert.deepEqual(stored, live);
    } finally {
      await mitm.close();
    }
  });

  it('replay through a recording proxy: same answers are same, a changed origin is reported', async () => {
    const file = join(temp.dir, 'replay.db');
    const mitm = await startTestProxy(pki, { store: file });
    try {
      await curlVia(mitm.url, [`${origin.url}/json`], mitm.caPath);
      await curlVia(mitm.url, ['--data-binary', '{"x":1}', '-H', 'content-type: application/json', `${origin.url}/echo`], mitm.caPath);
      await mitm.flows.waitFor((flow) => flow.url.endsWith('/echo'));
      const recorded = mitm.proxy.query('');
      const same = await within(replay(recorded, { through: mitm.url, ca: mitm.caPem }), 'replay');
      assert.deepEqual(
        same.map((result) => [result.status, result.bodyChanged, result.same]),
        [
          [200, false, true],
          [200, false, true],
        ],
      );
      await mitm.flows.waitFor((flow) => flow.id === 4);
      assert.equal(mitm.proxy.query('').length, 4, 'the replayed flows are recorded too');
      origin.version = 2;
      const changed = await within(replay(recorded, { through: mitm.url, ca: mitm.caPem, concurrency: 2 }), 'replay');
      assert.deepEqual(
        changed.map((result) => [result.status, result.bodyChanged, result.same]),
        [
          [200, true, false],
          [200, false, true],
        ],
      );
    } finally {
      origin.version = 1;
      await mitm.close();
    }
  });
});

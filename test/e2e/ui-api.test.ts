// The inspector's HTTP API over both sources: a running proxy (live) and a store file opened
// read-only (`mitm ui --store FILE`), plus the guard that keeps it out of reach through the proxy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { proxySource, startUi, storeSource, uiGuardHook, type RunningUi } from '../../src/index.js';
import { openStore } from '../../src/record/store/open-store.js';
import type { FlowDetail, FlowPage } from '../../src/ui/api-types.js';
import { curl } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { buildUiAssets, uiRequest } from '../helpers/ui.js';

function handler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const path = new URL(req.url ?? '/', 'http://o.invalid').pathname;
  if (path === '/data.json') res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"swordfish","n":1}');
  else if (path === '/missing') res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
  else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
}

describe('ui API', () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let mitm: TestProxy;
  let live: RunningUi;
  let stored: RunningUi | undefined;
  let scratch: string;
  const get = async <T>(ui: RunningUi, path: string): Promise<{ status: number; body: T }> => {
    const answer = await uiRequest(ui.port, path, { headers: { authorization: `Bearer ${ui.token}` } });
    return { status: answer.status, body: JSON.parse(answer.text) as T };
  };

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(handler, { cert: pki.origin.cert, key: pki.origin.key });
    mitm = await startTestProxy(pki);
    live = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
    scratch = await mkdtemp(join(tmpdir(), 'mitm-ui-store-'));
    for (const path of ['/data.json', '/missing', '/hello']) {
      await curl(['--proxy', mitm.url, '--cacert', mitm.caPath, `${origin.url}${path}`]);
    }
    await mitm.proxy.waitForFlow((flow) => flow.request.url.endsWith('/hello'));
  });

  after(async () => {
    await stored?.close();
    await live?.close();
    await mitm?.close();
    await origin?.close();
    await pki?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("lists a running proxy's flows with a filter, body terms included, and pages", async () => {
    const all = await get<FlowPage>(live, '/api/v1/flows');
    assert.equal(all.body.total, 3);
    const secret = await get<FlowPage>(live, `/api/v1/flows?filter=${encodeURIComponent('res:swordfish')}`);
    assert.deepEqual(
      secret.body.flows.map((flow) => flow.path),
      ['/data.json'],
    );
    const page = await get<FlowPage>(live, '/api/v1/flows?limit=1&offset=1');
    assert.equal(page.body.total, 3);
    assert.deepEqual(
      page.body.flows.map((flow) => flow.path),
      ['/missing'],
    );
  });

  it('gives one flow in detail: headers in wire order, decoded body, timings', async () => {
    const [json] = (await get<FlowPage>(live, '/api/v1/flows?filter=type:json')).body.flows;
    assert.ok(json);
    const { body } = await get<FlowDetail>(live, `/api/v1/flows/${json.id}`);
    assert.equal(body.status, 200);
    assert.equal(body.responseBody?.text, '{"secret":"swordfish","n":1}');
    assert.equal(body.responseBody?.mimeType, 'application/json');
    assert.ok(body.requestHeaders.some(([name]) => name.toLowerCase() === 'user-agent'));
    assert.ok(body.timings.end !== undefined && body.timings.end >= body.timings.start);
    assert.equal((await get(live, '/api/v1/flows/999999')).status, 404);
  });

  it('exports the filtered set as HAR and serves the CA', async () => {
    const { status, body } = await get<{ log: { entries: Array<{ request: { url: string } }> } }>(live, '/api/v1/har?filter=status:404');
    assert.equal(status, 200);
    assert.deepEqual(
      body.log.entries.map((entry) => new URL(entry.request.url).pathname),
      ['/missing'],
    );
    const ca = await uiRequest(live.port, '/api/v1/ca.pem', { headers: { authorization: `Bearer ${live.token}` } });
    assert.equal(ca.text, mitm.caPem);
  });

  it('shows a store file read-only, without a proxy', async () => {
    const file = join(scratch, 'session.db');
    const store = await openStore(file);
    for (const flow of mitm.proxy.flows) store.append(flow);
    await store.close();
    const reader = await openStore(file, { readonly: true });
    stored = await startUi({ port: 0, source: storeSource(reader), assetsDir: await buildUiAssets() });
    const all = await get<FlowPage>(stored, '/api/v1/flows?filter=status:404');
    assert.deepEqual(
      all.body.flows.map((flow) => flow.path),
      ['/missing'],
    );
    const [json] = (await get<FlowPage>(stored, `/api/v1/flows?filter=${encodeURIComponent('res:swordfish')}`)).body.flows;
    assert.ok(json);
    const detail = await get<FlowDetail>(stored, `/api/v1/flows/${json.id}`);
    assert.equal(detail.body.responseBody?.text, '{"secret":"swordfish","n":1}');
    const har = await get<{ log: { entries: unknown[] } }>(stored, '/api/v1/har');
    assert.equal(har.body.log.entries.length, 3);
    const stats = await get<{ source: string; readOnly: boolean; flows: number }>(stored, '/api/v1/stats');
    assert.deepEqual([stats.body.source, stats.body.readOnly, stats.body.flows], ['store', true, 3]);
    const clear = await uiRequest(stored.port, '/api/v1/clear', { method: 'POST', headers: { authorization: `Bearer ${stored.token}` } });
    assert.equal(clear.status, 409);
    for (const [method, path] of [
      ['POST', `/api/v1/flows/${json.id}/pin`],
      ['POST', '/api/v1/import'],
    ] as const) {
      const refused = await uiRequest(stored.port, path, { method, headers: { authorization: `Bearer ${stored.token}` }, body: '{}' });
      assert.equal(refused.status, 409, path);
    }
    const picked = await get<{ log: { entries: Array<{ request: { url: string } }> } }>(stored, `/api/v1/har?ids=${json.id}`);
    assert.deepEqual(
      picked.body.log.entries.map((entry) => entry.request.url),
      [json.url],
    );
    await stored.close();
    await reader.close();
    stored = undefined;
  });

  it('is not reachable through the proxy once the guard hook is installed', async () => {
    mitm.proxy.use(uiGuardHook(live));
    const through = await curl(['--proxy', mitm.url, `http://127.0.0.1:${live.port}/api/v1/stats`]);
    assert.equal(through.status, 403);
    assert.match(through.text, /not reachable through the proxy/);
  });
});

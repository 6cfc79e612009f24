import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpProxyAgent } from 'http-proxy-agent';
import type { Flow } from '../../src/index.js';
import { openStore, type SessionStore } from '../../src/record/store/open-store.js';
import { headerValues } from '../../src/record/store/reader.js';
import { storedToHar } from '../../src/record/har-stored.js';
import { within } from '../helpers/deadline.js';
import { MitmAgent, send, sendViaProxy } from '../helpers/client.js';
import { lineText, startContentOrigin, type ContentOrigin } from '../helpers/content-origin.js';
import { bigBytes, startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { Recorder, startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { tempDir } from '../helpers/store-flows.js';
import { openClient } from '../helpers/ws-client.js';
import { startWsOrigin, type WsOrigin } from '../helpers/ws-origin.js';

// Flows recorded from real traffic through a proxy, appended from an onFlowEnd hook (with the
// 'flow' event's record, as the wiring will), written, and read back after a reopen.
describe('store: flows from real traffic', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let content: ContentOrigin;
  let wsOrigin: WsOrigin;
  let mitm: TestProxy;
  let store: SessionStore;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let file: string;
  const appended = new Recorder<Flow>();

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
    content = await startContentOrigin();
    wsOrigin = await startWsOrigin({ echo: true });
    temp = await tempDir('mitm-store-e2e-');
    file = join(temp.dir, 'session.db');
    store = await openStore(file, { storeBodyLimit: 100_000 });
    mitm = await startTestProxy(pki, {
      recordBodyLimit: 1_000_000,
      hooks: [
        {
          name: 'store',
          onFlowEnd: (flow) => {
            const record = mitm.flows.items.find((item) => item.id === flow.id);
            store.append(flow, { ...record, mode: 'regular' });
            appended.push(flow);
          },
        },
      ],
    });
  });

  after(async () => {
    await mitm?.close();
    await store?.close();
    await origin?.close();
    await content?.close();
    await wsOrigin?.close();
    await pki?.cleanup();
    await temp?.remove();
  });

  /** Resolves once the onFlowEnd hook appended a flow whose URL ends with `suffix`; rejects after 10 s. */
  const appendedFlow = (suffix: string): Promise<Flow> =>
    within(
      appended.waitFor((flow) => flow.request.url.endsWith(suffix)),
      `a flow for ${suffix} to be appended`,
      10_000,
    );

  it('round-trips heads, bodies (raw and decoded), cut bodies, errors and WebSocket messages', async () => {
    const agent = new MitmAgent(mitm.port, mitm.proxy.caCertPem);
    try {
      const hello = await send({ agent, host: 'localhost', port: origin.port, path: '/hello', headers: { 'X-Test': 'one' } });
      assert.equal(hello.text, 'hello');
      const echo = await send({
        agent,
        host: 'localhost',
        port: origin.port,
        path: '/echo?x=1',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"store"}',
      });
      assert.equal((JSON.parse(echo.text) as EchoBody).body, '{"name":"store"}');
      const big = await send({ agent, host: 'localhost', port: origin.port, path: '/big?bytes=300000' });
      assert.equal(big.body.length, 300_000);
    } finally {
      agent.destroy();
    }
    const gzip = await sendViaProxy(mitm.port, `${content.url}/gzip?bytes=5000`);
    assert.equal(gzip.status, 200);
    const dead = await sendViaProxy(mitm.port, 'http://127.0.0.1:1/refused');
    assert.equal(dead.status, 502);
    const client = await openClient(`${wsOrigin.url}/chat`, [], { agent: new HttpProxyAgent(mitm.url) });
    client.ws.send('hi there');
    await client.received(1);
    client.ws.close(1000);

    for (const suffix of ['/hello', '/echo?x=1', '/big?bytes=300000', '/gzip?bytes=5000', '/refused', '/chat']) await appendedFlow(suffix);
    await store.flush();
    await store.close();

    const reopened = await openStore(file, { readonly: true });
    try {
      const byPath = new Map(reopened.query().map((flow) => [flow.path, flow]));
      const hello = byPath.get('/hello');
      assert.ok(hello);
      assert.equal(hello.url, `https://localhost:${origin.port}/hello`);
      assert.equal(hello.host, 'localhost');
      assert.equal(hello.status, 200);
      assert.equal(hello.mode, 'regular');
      assert.deepEqual(headerValues(hello.requestHeaders, 'x-test'), ['one']);
      assert.equal(hello.responseBody?.text, 'hello');
      assert.equal(hello.responseSize, 5);
      assert.ok(hello.timings.responseStart !== undefined && hello.timings.end !== undefined && hello.durationMs !== undefined);
      assert.equal(hello.server?.address, '127.0.0.1');

      const echo = byPath.get('/echo?x=1');
      assert.equal(echo?.method, 'POST');
      assert.equal(echo?.requestBody?.text, '{"name":"store"}');
      assert.equal((JSON.parse(echo?.responseBody?.text ?? '{}') as EchoBody).body, '{"name":"store"}');

      const big = byPath.get('/big?bytes=300000');
      assert.equal(big?.responseBody?.cut, true);
      assert.equal(big?.responseBody?.fullLength, 300_000);
      const expected = Buffer.concat([bigBytes(0, 50_000), bigBytes(50_000, 50_000)]);
      assert.ok(big?.responseBody?.raw.equals(expected), 'the first 100 000 bytes as sent');

      const gzip = byPath.get('/gzip?bytes=5000');
      assert.equal(gzip?.responseBody?.contentEncoding, 'gzip');
      assert.equal(gzip?.responseBody?.text, lineText(5000));
      assert.notEqual(gzip?.responseBody?.raw.length, 5000);

      const refused = byPath.get('/refused');
      assert.equal(refused?.status, 502);
      assert.equal(refused?.error?.code, 'upstream_refused');
      // The answer the client got is stored like any other, and exported to HAR as such.
      assert.deepEqual(headerValues(refused?.responseHeaders ?? [], 'x-mitm-error'), ['upstream_refused']);
      assert.match(refused?.responseBody?.text ?? '', /refused/);
      const entry = storedToHar(refused ? [refused] : [], { name: 'test', version: '0' }).log.entries[0];
      assert.equal(entry?.response.status, 502);
      assert.equal(entry?._error?.code, 'upstream_refused');

      const chat = byPath.get('/chat');
      assert.equal(chat?.isWebSocket, true);
      assert.equal(chat?.status, 101);
      assert.deepEqual(
        chat?.webSocketMessages.map((m) => `${m.direction} ${m.data.toString()}`),
        ['client-to-server hi there', 'server-to-client hi there'],
      );
    } finally {
      await reopened.close();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMitmError, startProxy, type ProxyOptions, type RunningProxy, type StartOptions } from '../../src/index.js';
import { sendViaProxy } from '../helpers/client.js';
import { lineText, startContentOrigin, type ContentOrigin } from '../helpers/content-origin.js';
import { startCustomOrigin } from '../helpers/custom-origin.js';
import { validateHar } from '../helpers/har-schema.js';
import { bigBytes, startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { exposeGc } from '../helpers/gc.js';

// Recording in the library: the ring of flows, waitForFlow, clear() and har().
describe('recording: proxy.flows, waitForFlow, clear, har()', { timeout: 120_000 }, () => {
  let origin: Origin;
  let contentOrigin: ContentOrigin;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    origin = await startOrigin();
    contentOrigin = await startContentOrigin();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await origin?.close();
    await contentOrigin?.close();
  });

  /** A proxy on port 0 with its own CA folder, closed after the suite. */
  const start = async (options: StartOptions = {}): Promise<RunningProxy> => {
    const ca = await mkdtemp(join(tmpdir(), 'mitm-recording-ca-'));
    const proxy = await startProxy({ port: 0, ca, ...options });
    cleanups.push(async () => {
      await proxy.close();
      await rm(ca, { recursive: true, force: true });
    });
    return proxy;
  };

  /** GETs `url` through the proxy and waits until its flow is recorded. */
  const fetchRecorded = async (proxy: RunningProxy, url: string, options: Parameters<typeof sendViaProxy>[2] = {}) => {
    const response = await sendViaProxy(proxy.port, url, options);
    await proxy.waitForFlow((flow) => flow.request.url === url);
    return response;
  };

  it('keeps only the last `keep` flows', async () => {
    const proxy = await start({ keep: 3 } satisfies ProxyOptions);
    const urls = [1, 2, 3, 4, 5].map((i) => `${origin.url}/hello?i=${i}`);
    for (const url of urls) await fetchRecorded(proxy, url);
    assert.deepEqual(
      proxy.flows.map((flow) => flow.request.url),
      urls.slice(2),
    );
    assert.equal(proxy.har().log.entries.length, 3);
  });

  it('waitForFlow resolves for a recorded flow and a future one, and rejects with wait_timeout', async () => {
    const proxy = await start();
    const pastUrl = `${origin.url}/hello?when=past`;
    await sendViaProxy(proxy.port, pastUrl);
    const past = await proxy.waitForFlow((flow) => flow.request.url === pastUrl);
    assert.equal(past.response?.status, 200);
    // Already recorded: resolves with the very same flow object.
    assert.equal(await proxy.waitForFlow((flow) => flow.request.url === pastUrl), past);

    const futureUrl = `${origin.url}/hello?when=future`;
    const future = proxy.waitForFlow((flow) => flow.request.url === futureUrl);
    assert.equal(
      proxy.flows.some((flow) => flow.request.url === futureUrl),
      false,
    );
    await sendViaProxy(proxy.port, futureUrl);
    assert.equal((await future).request.url, futureUrl);

    await assert.rejects(
      proxy.waitForFlow((flow) => flow.request.url.endsWith('/never'), { timeout: 25 }),
      (error: unknown) => isMitmError(error) && error.code === 'wait_timeout' && /within 25 ms \(2 flows recorded\)/.test(error.message),
    );
  });

  it('clear() forgets what was recorded, and recording goes on', async () => {
    const proxy = await start();
    await fetchRecorded(proxy, `${origin.url}/hello?before=clear`);
    assert.equal(proxy.flows.length, 1);
    proxy.clear();
    assert.equal(proxy.flows.length, 0);
    assert.deepEqual(proxy.har().log.entries, []);
    const afterUrl = `${origin.url}/hello?after=clear`;
    await fetchRecorded(proxy, afterUrl);
    assert.deepEqual(
      proxy.flows.map((flow) => flow.request.url),
      [afterUrl],
    );
  });

  it('har() is valid HAR 1.2 and shows what was sent after hooks', async () => {
    const proxy = await start({
      hooks: [
        {
          name: 'add-header',
          onRequest(flow) {
            flow.request.headers['x-added-by-hook'] = 'yes';
          },
        },
        {
          name: 'mock',
          onRequest(flow) {
            if (!flow.request.url.endsWith('/mocked')) return;
            flow.tags.add('mocked');
            flow.respond({ status: 201, headers: { 'content-type': 'application/json' }, body: '{"mocked":true}' });
          },
        },
      ],
    });
    const echoUrl = `${origin.url}/echo?q=1&q=2`;
    const json = '{"hello":"wörld"}';
    const echoed = await fetchRecorded(proxy, echoUrl, {
      method: 'POST',
      headers: { 'x-first': 'a', 'content-type': 'application/json', cookie: 'a=1; b=2', 'x-last': 'z' },
      body: json,
    });
    assert.equal((JSON.parse(echoed.text) as EchoBody).headers['x-added-by-hook'], 'yes');
    const mockedUrl = `${origin.url}/mocked`;
    // The hook answers without reading the upload: it is still recorded whole, as the client sent it.
    const upload = 'sent to a mock '.repeat(3000);
    await fetchRecorded(proxy, mockedUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: upload });
    const cookiesUrl = `${contentOrigin.url}/cookies`;
    await fetchRecorded(proxy, cookiesUrl);
    const refusedUrl = 'http://127.0.0.1:1/refused';
    await fetchRecorded(proxy, refusedUrl);

    const har = validateHar(JSON.parse(JSON.stringify(proxy.har())));
    assert.deepEqual(
      har.log.entries.map((entry) => entry.request.url),
      [echoUrl, mockedUrl, cookiesUrl, refusedUrl],
    );
    const [echo, mocked, cookies, refused] = har.log.entries;

    // Wire order as the client sent it, and the hook's header after them: what the origin got.
    const names = echo?.request.headers.map((header) => header.name.toLowerCase()) ?? [];
    assert.ok(names.indexOf('x-first') < names.indexOf('x-last'), names.join());
    assert.equal(names.at(-1), 'x-added-by-hook', names.join());
    assert.deepEqual(echo?.request.cookies, [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    assert.deepEqual(echo?.request.queryString, [
      { name: 'q', value: '1' },
      { name: 'q', value: '2' },
    ]);
    assert.equal(echo?.request.postData?.text, json);
    assert.equal(echo?.request.bodySize, Buffer.byteLength(json));
    assert.equal(echo?.response.statusText, 'OK');

    assert.equal(mocked?.request.postData?.text, upload);
    assert.equal(mocked?.request.bodySize, upload.length);
    assert.equal(mocked?.response.status, 201);
    assert.equal(mocked?.response.content.text, '{"mocked":true}');
    assert.equal(mocked?.response.content._truncated, undefined);
    assert.deepEqual(mocked?._tags, ['mocked']);
    assert.equal(mocked?.serverIPAddress, undefined, 'a hook answered: no origin was contacted');

    assert.deepEqual(cookies?.response.cookies, [
      { name: 'session', value: 'abc123', path: '/', httpOnly: true, secure: true },
      { name: 'theme', value: 'dark', expires: cookies?.response.cookies[1]?.expires },
    ]);
    assert.ok(cookies?.response.cookies[1]?.expires, 'Max-Age becomes an expiry date');

    // The client got our 502: the HAR says so, with its x-mitm-error and body, and the code in _error.
    assert.equal(refused?.response.status, 502);
    assert.ok(refused?.response.headers.some((h) => h.name.toLowerCase() === 'x-mitm-error' && h.value === 'upstream_refused'));
    assert.match(refused?.response.content.text ?? '', /refused/);
    // Every header as sent, its length too.
    const length = refused?.response.headers.find((h) => h.name.toLowerCase() === 'content-length')?.value;
    assert.equal(length, String(Buffer.byteLength(refused?.response.content.text ?? '')));
    assert.equal(refused?._error?.code, 'upstream_refused');
    for (const entry of har.log.entries) assert.equal(entry.connection, String(Number(entry.connection)));
  });

  it('marks a flow whose response broke off mid-body incomplete, and its HAR entry aborted with what came', async () => {
    // Promises 4000 bytes, sends 1000, then drops the connection.
    const cutting = await startCustomOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4000' });
      res.write('x'.repeat(1000), () => res.socket?.destroy());
    });
    cleanups.push(() => cutting.close());
    const proxy = await start();
    const url = `${cutting.url}/cut`;
    const seen = proxy.waitForFlow((flow) => flow.request.url === url);
    await assert.rejects(sendViaProxy(proxy.port, url), 'the client sees the cut too');
    const flow = await seen;
    assert.equal(flow.incomplete, true);
    const whole = await fetchRecorded(proxy, `${origin.url}/hello?whole=1`);
    assert.equal(whole.text, 'hello');
    assert.equal(proxy.flows.at(-1)?.incomplete, false);

    const [cut, complete] = validateHar(JSON.parse(JSON.stringify(proxy.har()))).log.entries;
    assert.equal(cut?.response.status, 200);
    assert.equal(cut?.response.content.text, 'x'.repeat(1000));
    assert.deepEqual(cut?._error, { code: 'aborted', message: 'the connection closed before the response was complete' });
    assert.equal(complete?._error, undefined);
  });

  it('marks bodies over recordBodyLimit `_truncated` and keeps their start', async () => {
    const proxy = await start({ recordBodyLimit: 1024 });
    const bigUrl = `${origin.url}/big?bytes=5000`;
    await fetchRecorded(proxy, bigUrl);
    const uploadUrl = `${origin.url}/echo?upload=1`;
    const upload = 'u'.repeat(5000);
    await fetchRecorded(proxy, uploadUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: upload });
    const gzipUrl = `${contentOrigin.url}/gzip?bytes=200000`;
    await fetchRecorded(proxy, gzipUrl);
    const smallUrl = `${origin.url}/hello?small=1`;
    await fetchRecorded(proxy, smallUrl);

    const har = validateHar(JSON.parse(JSON.stringify(proxy.har())));
    const entry = (url: string) => har.log.entries.find((e) => e.request.url === url);

    const big = entry(bigUrl)?.response;
    assert.equal(big?.content._truncated, true);
    assert.equal(big?.content.encoding, 'base64');
    assert.deepEqual(Buffer.from(big?.content.text ?? '', 'base64'), Buffer.from(bigBytes(0, 1024)));
    assert.equal(big?.bodySize, 5000, 'the declared length is still the size sent');
    assert.equal(big?.content.size, 5000);

    const posted = entry(uploadUrl)?.request.postData;
    assert.equal(posted?._truncated, true);
    assert.equal(posted?.text, upload.slice(0, 1024));
    assert.equal(entry(uploadUrl)?.request.bodySize, 5000);

    // The start of a gzip stream still inflates: the HAR shows the beginning of the decoded text.
    const gzip = entry(gzipUrl)?.response.content;
    assert.equal(gzip?._truncated, true);
    assert.ok((gzip?.text?.length ?? 0) > 1024, 'more text than the compressed bytes kept');
    assert.ok(lineText(200000).startsWith(gzip?.text ?? 'missing'), 'a prefix of the original text');

    assert.equal(entry(smallUrl)?.response.content._truncated, undefined);
    assert.equal(entry(smallUrl)?.response.content.text, 'hello');
  });

  it('keeps memory bounded: keep 50, 500 responses of 256 KiB', async () => {
    const gc = exposeGc();
    const proxy = await start({ keep: 50 });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    cleanups.push(async () => agent.destroy());
    const size = 256 * 1024;
    const get = async (i: number): Promise<void> => {
      const response = await sendViaProxy(proxy.port, `${origin.url}/big?bytes=${size}&i=${i}`, { agent });
      assert.equal(response.body.length, size);
    };
    // Warm up pools, caches and the JIT, so the baseline is not inflated by first-use costs.
    for (let i = 0; i < 16; i += 1) await get(-1 - i);
    gc();
    const before = process.memoryUsage();

    const total = 500;
    for (let i = 0; i < total; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, total - i) }, (_, j) => get(i + j)));
    }
    await proxy.waitForFlow((flow) => flow.request.url.endsWith(`&i=${total - 1}`));
    // V8 frees ArrayBuffer memory on a background thread after a GC, so one sample right after
    // gc() can still count garbage (seen here on a loaded machine: +30 MiB, then +2.5 MiB one loop
    // turn later). A leak shows in every sample; garbage does not: take the lowest of a few turns.
    let afterRun = process.memoryUsage();
    for (let turn = 0; turn < 5; turn += 1) {
      gc();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const sample = process.memoryUsage();
      if (sample.arrayBuffers < afterRun.arrayBuffers) afterRun = sample;
    }

    assert.equal(proxy.flows.length, 50);
    const recordedBytes = proxy.flows.reduce((sum, flow) => sum + (flow.response?.bodyStore.recorded().data.length ?? 0), 0);
    assert.ok(recordedBytes <= 50 * 64 * 1024, `recorded ${recordedBytes} bytes`);
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    // 50 kept flows hold about 3 MiB of bodies; without the ring, 500 would hold 32 MiB, and
    // whole bodies 128 MiB. The bounds are generous: they catch leaks, not allocator noise.
    const buffers = afterRun.arrayBuffers - before.arrayBuffers;
    assert.ok(buffers < 16 * 2 ** 20, `Buffer memory grew by ${mib(buffers)}`);
    const rss = afterRun.rss - before.rss;
    assert.ok(rss < 96 * 2 ** 20, `RSS grew by ${mib(rss)}`);
  });
});

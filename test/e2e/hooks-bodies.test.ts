import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { mockServer, setHeaders, type Flow, type Hook } from '../../src/index.js';
import { MitmAgent, send } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { deferred, hookProxies, type HookProxies } from '../helpers/hook-proxy.js';
import { bigBytes, bigSha256, startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

const DOCUMENT = { greeting: 'héllo', items: Array.from({ length: 200 }, (_, i) => ({ i, word: `word-${i % 7}` })) };
const DOCUMENT_TEXT = JSON.stringify(DOCUMENT);
// zstd arrived in Node 22.15; on older Nodes the proxy must say so rather than guess.
const zstd = zlib as { zstdCompressSync?: (data: Buffer) => Buffer };

/** The exact bytes the encoding origin sends for each content-encoding. */
const ENCODED: Record<string, Buffer> = {
  gzip: zlib.gzipSync(DOCUMENT_TEXT),
  deflate: zlib.deflateSync(DOCUMENT_TEXT),
  // Raw deflate (no zlib wrapper) under the name "deflate": servers still send it.
  'deflate-raw': zlib.deflateRawSync(DOCUMENT_TEXT),
  br: zlib.brotliCompressSync(DOCUMENT_TEXT),
  zstd: zstd.zstdCompressSync ? zstd.zstdCompressSync(Buffer.from(DOCUMENT_TEXT)) : Buffer.from('28b52ffd-not-really-zstd'),
};

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const MiB = 2 ** 20;

/** `/enc/<name>` → DOCUMENT encoded; `/cookies` → two Set-Cookie; `/chunked?bytes=N` → /big bytes without Content-Length. */
function encodingRoutes(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://origin.invalid');
  const name = url.pathname.replace(/^\/enc\//, '');
  const encoded = ENCODED[name];
  if (encoded) {
    const coding = name === 'deflate-raw' ? 'deflate' : name;
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding, 'content-length': encoded.length }).end(encoded);
    return;
  }
  if (url.pathname === '/cookies') {
    res.setHeader('set-cookie', ['first=1; Path=/', 'second=2; Path=/']);
    res.writeHead(200, { 'content-type': 'text/plain', 'x-origin-note': 'original' }).end('ok');
    return;
  }
  if (url.pathname === '/chunked') {
    const total = Number(url.searchParams.get('bytes') ?? '0');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let offset = 0; offset < total; offset += 64 * 1024) res.write(bigBytes(offset, Math.min(64 * 1024, total - offset)));
    res.end();
    return;
  }
  res.writeHead(404).end();
}

/** Streams a response through `agent`, hashing it, and samples rss as it goes. */
async function streamDownload(
  start: () => ReturnType<typeof request>,
): Promise<{ status: number; bytes: number; sha256: string; peakRss: number }> {
  const req = start();
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const hash = createHash('sha256');
  let bytes = 0;
  let nextSample = 0;
  let peakRss = process.memoryUsage.rss();
  for await (const chunk of res) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= nextSample) {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      nextSample += MiB;
    }
  }
  return { status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex'), peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
}

// What hooks do to bodies and headers, and what they must leave alone.
describe('hooks: bodies and headers', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let proxies: HookProxies;
  let origin: Origin;
  let plain: Origin;
  let encoding: CustomOrigin;
  let encodingPlain: CustomOrigin;
  const agents: MitmAgent[] = [];
  const agent = (port: number): MitmAgent => {
    const created = new MitmAgent(port, proxies.caPem, { maxSockets: 1 });
    agents.push(created);
    return created;
  };

  before(async () => {
    pki = await createTestPki();
    proxies = await hookProxies(pki);
    [origin, plain, encoding, encodingPlain] = await Promise.all([
      startOrigin(pki.origin),
      startOrigin(),
      startCustomOrigin(encodingRoutes, pki.origin),
      startCustomOrigin(encodingRoutes),
    ]);
  });

  after(async () => {
    for (const created of agents) created.destroy();
    await Promise.all([origin?.close(), plain?.close(), encoding?.close(), encodingPlain?.close()]);
    await proxies?.cleanup();
    await pki?.cleanup();
  });

  it('sends a replaced request body to the origin with a correct Content-Length, unencoded', async (t) => {
    const seen: unknown[] = [];
    const proxy = await proxies.start(t, [
      {
        name: 'rewrite-request',
        async onRequest(flow) {
          if (flow.request.method !== 'POST') return;
          seen.push(await flow.request.json());
          flow.request.body = JSON.stringify({ replaced: 'ünïcode' });
        },
      },
    ]);
    const via = agent(proxy.port);
    const original = JSON.stringify({ original: true, padding: 'x'.repeat(5000) });
    const cases = [
      { label: 'content-length', headers: { 'content-type': 'application/json' }, body: Buffer.from(original) },
      { label: 'gzip', headers: { 'content-encoding': 'gzip' }, body: zlib.gzipSync(original) },
      { label: 'chunked', headers: { 'transfer-encoding': 'chunked' }, body: Buffer.from(original) },
    ];
    for (const { label, headers, body } of cases) {
      const res = await send({ agent: via, host: 'localhost', port: origin.port, path: '/echo', method: 'POST', headers, body });
      const echo = JSON.parse(res.text) as EchoBody;
      const expected = JSON.stringify({ replaced: 'ünïcode' });
      assert.equal(echo.body, expected, label);
      assert.equal(echo.headers['content-length'], String(Buffer.byteLength(expected)), label);
      assert.equal(echo.headers['content-encoding'], undefined, `${label}: a replaced body is sent unencoded`);
      assert.equal(echo.headers['transfer-encoding'], undefined, label);
    }
    assert.deepEqual(seen, [JSON.parse(original), JSON.parse(original), JSON.parse(original)], 'hooks read the decoded body');
  });

  it('sends a replaced response body with a correct Content-Length and no Content-Encoding', async (t) => {
    const proxy = await proxies.start(t, [
      {
        name: 'rewrite-response',
        async onResponse(flow) {
          if (!flow.response) return;
          const doc = (await flow.response.json()) as typeof DOCUMENT;
          flow.response.body = JSON.stringify({ count: doc.items.length, greeting: doc.greeting });
        },
      },
    ]);
    const expected = JSON.stringify({ count: 200, greeting: 'héllo' });
    for (const coding of ['gzip', 'br']) {
      const res = await send({ agent: agent(proxy.port), host: 'localhost', port: encoding.port, path: `/enc/${coding}` });
      assert.equal(res.text, expected, coding);
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(expected)), coding);
      assert.equal(res.headers['content-encoding'], undefined, coding);
    }
    // And over plain HTTP, seen by curl without --compressed.
    const viaCurl = await curlVia(`http://127.0.0.1:${proxy.port}`, [`${encodingPlain.url}/enc/deflate`]);
    assert.equal(viaCurl.text, expected);
    assert.equal(viaCurl.headers['content-length'], String(Buffer.byteLength(expected)));
    assert.equal(viaCurl.headers['content-encoding'], undefined);
  });

  it('passes header changes both ways and keeps untouched repeated headers in order', async (t) => {
    const proxy = await proxies.start(t, [
      setHeaders({ request: { 'x-added': 'by-hook', 'x-remove-me': null }, response: { 'x-origin-note': 'changed', 'x-new': 'yes' } }),
    ]);
    const res = await send({
      agent: agent(proxy.port),
      host: 'localhost',
      port: origin.port,
      path: '/echo',
      headers: { 'x-remove-me': 'secret', 'x-multi': ['one', 'two'] },
    });
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.headers['x-added'], 'by-hook');
    assert.equal(echo.headers['x-remove-me'], undefined);
    assert.equal(echo.headers['x-multi'], 'one, two', 'repeated request fields arrive in order');

    const cookies = await send({ agent: agent(proxy.port), host: 'localhost', port: encoding.port, path: '/cookies' });
    assert.deepEqual(cookies.headers['set-cookie'], ['first=1; Path=/', 'second=2; Path=/']);
    assert.equal(cookies.headers['x-origin-note'], 'changed');
    assert.equal(cookies.headers['x-new'], 'yes');
    assert.equal(cookies.text, 'ok');
  });

  it('decodes gzip, deflate (zlib and raw) and br for hooks, and forwards the compressed bytes unchanged', async (t) => {
    const decoded = new Map<string, unknown>();
    const reader: Hook = {
      name: 'reader',
      async onResponse(flow) {
        decoded.set(new URL(flow.request.url).pathname, await flow.response?.json());
      },
    };
    const looker: Hook = { name: 'looker', onResponse: (flow) => void flow.tags.add(`saw-${flow.response?.status}`) };
    const reading = await proxies.start(t, [reader]);
    const notReading = await proxies.start(t, [looker]);
    for (const name of ['gzip', 'deflate', 'deflate-raw', 'br']) {
      const expected = ENCODED[name] as Buffer;
      for (const proxy of [reading, notReading]) {
        const res = await send({ agent: agent(proxy.port), host: 'localhost', port: encoding.port, path: `/enc/${name}` });
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-encoding'], name === 'deflate-raw' ? 'deflate' : name);
        assert.equal(res.headers['content-length'], String(expected.length));
        assert.ok(res.body.equals(expected), `${name}: the client must get the origin's compressed bytes`);
      }
      assert.deepEqual(decoded.get(`/enc/${name}`), DOCUMENT, `${name}: the hook must see the decoded JSON`);
    }
    // Plain HTTP and curl without --compressed: still the origin's bytes.
    const viaCurl = await curlVia(reading.url, [`${encodingPlain.url}/enc/br`]);
    assert.ok(viaCurl.body.equals(ENCODED.br as Buffer));
  });

  it('reports zstd as undecodable on Nodes without it (naming the version), and still forwards the bytes', async (t) => {
    const outcome = deferred<{ text?: string | undefined; code?: string; message?: string }>();
    const proxy = await proxies.start(t, [
      {
        name: 'zstd-reader',
        async onResponse(flow) {
          try {
            outcome.resolve({ text: await flow.response?.text() });
          } catch (error) {
            const { code, message } = error as { code: string; message: string };
            outcome.resolve({ code, message });
          }
        },
      },
    ]);
    const res = await send({ agent: agent(proxy.port), host: 'localhost', port: encoding.port, path: '/enc/zstd' });
    assert.ok(res.body.equals(ENCODED.zstd as Buffer), 'the client must get the bytes unchanged');
    assert.equal(res.headers['content-encoding'], 'zstd');
    const seen = await outcome.promise;
    if (zstd.zstdCompressSync) {
      assert.equal(seen.text, DOCUMENT_TEXT);
    } else {
      assert.equal(seen.code, 'body_undecodable');
      assert.match(seen.message ?? '', /zstd/);
      assert.ok(seen.message?.includes(process.version), seen.message);
    }
    // Uncaught, the same error becomes a 500 naming the code.
    const strict = await proxies.start(t, [{ name: 'strict', onResponse: async (flow) => void (await flow.response?.text()) }]);
    const failed = await curlVia(strict.url, [`${encodingPlain.url}/enc/zstd`]);
    if (!zstd.zstdCompressSync) {
      assert.equal(failed.status, 500);
      assert.equal(failed.headers['x-mitm-error'], 'body_undecodable');
    }
  });

  it('refuses to buffer past --max-body-buffer; a hook that catches it leaves the response whole', async (t) => {
    const errors: string[] = [];
    const proxy = await proxies.start(
      t,
      [
        {
          name: 'greedy',
          async onResponse(flow) {
            await flow.response?.bytes().catch((error: { code: string }) => void errors.push(error.code));
          },
        },
      ],
      { maxBodyBuffer: 4096 },
    );
    const bytes = 3 * MiB + 7;
    // With a Content-Length (refused up front) and chunked (refused after reading past the cap).
    const urls = [`${origin.url}/big?bytes=${bytes}`, `${encoding.url}/chunked?bytes=${bytes}`];
    for (const url of urls) {
      const res = await curlVia(proxy.url, [url], proxies.caPath);
      assert.equal(res.status, 200, res.stderr);
      assert.equal(res.body.length, bytes, url);
      assert.equal(sha256(res.body), bigSha256(bytes), `${url}: the body must arrive whole and untruncated`);
    }
    assert.deepEqual(errors, ['body_too_large', 'body_too_large']);

    const strict = await proxies.start(t, [{ name: 'strict', onResponse: async (flow) => void (await flow.response?.bytes()) }], {
      maxBodyBuffer: 4096,
    });
    const failed = await curlVia(strict.url, [`${origin.url}/big?bytes=${bytes}`], proxies.caPath);
    assert.equal(failed.status, 500);
    assert.equal(failed.headers['x-mitm-error'], 'body_too_large');
    assert.match(failed.text, /larger than the 4096 byte buffer limit \(--max-body-buffer\)/);
  });

  it('leaves an oversized request body whole for the origin when the reading hook catches the error', async (t) => {
    const errors: string[] = [];
    const proxy = await proxies.start(
      t,
      [
        {
          name: 'greedy',
          onRequest: async (flow) => void (await flow.request.text().catch((error: { code: string }) => void errors.push(error.code))),
        },
      ],
      { maxBodyBuffer: 4096 },
    );
    const upload = Buffer.concat([bigBytes(0, 65536), bigBytes(65536, 65536), bigBytes(131072, 1000)]);
    for (const headers of [{}, { 'transfer-encoding': 'chunked' }]) {
      const res = await send({
        agent: agent(proxy.port),
        host: 'localhost',
        port: origin.port,
        path: '/echo',
        method: 'POST',
        headers,
        body: upload,
      });
      const echo = JSON.parse(res.text) as EchoBody;
      assert.equal(echo.bodyBytes, upload.length);
      assert.equal(echo.bodySha256, sha256(upload));
    }
    assert.deepEqual(errors, ['body_too_large', 'body_too_large']);
  });

  it('drains an upload a hook read past the cap and then answered or replaced, so the connection serves the next request', {
    timeout: 30_000,
  }, async (t) => {
    const proxy = await proxies.start(
      t,
      [
        {
          name: 'peek-then-decide',
          async onRequest(flow) {
            if (flow.request.method !== 'POST') return;
            await flow.request.text().catch(() => undefined);
            if (flow.request.url.endsWith('/mock')) flow.respond({ status: 201, body: 'mocked' });
            else flow.request.body = 'small';
          },
        },
      ],
      { maxBodyBuffer: 1024 },
    );
    const via = agent(proxy.port);
    // Chunked and 1 MiB: the hook reads past the cap, the rest stays in the socket unless drained.
    const upload = Buffer.concat(Array.from({ length: 16 }, (_, i) => bigBytes(i * 65536, 65536)));
    const post = (path: string): ReturnType<typeof send> =>
      send({
        agent: via,
        host: 'localhost',
        port: origin.port,
        path,
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        body: upload,
      });
    assert.equal((await post('/mock')).text, 'mocked');
    assert.equal((await send({ agent: via, host: 'localhost', port: origin.port, path: '/hello' })).text, 'hello');
    assert.equal((JSON.parse((await post('/echo')).text) as EchoBody).body, 'small');
    assert.equal((await send({ agent: via, host: 'localhost', port: origin.port, path: '/hello' })).text, 'hello');
    assert.equal(via.tunnelsOpened, 1, 'all four requests share one kept-alive connection');
  });

  it('reads and records an HTTP/2 upload a hook answered unread; the flow ends with the upload', { timeout: 30_000 }, async (t) => {
    const proxy = await proxies.start(t, [{ name: 'answer', onRequest: (flow) => flow.respond({ status: 201, body: 'mocked' }) }], {
      recordBodyLimit: 1024,
    });
    const session = await h2ViaProxy(proxy.port, `localhost:${origin.port}`, proxies.caPem);
    t.after(() => session.close());
    // 4 MiB, 64 times the stream's initial window: the proxy must go on reading it after answering.
    const upload = Buffer.concat(Array.from({ length: 64 }, (_, i) => bigBytes(i * 65536, 65536)));
    const response = await h2Request(session, { ':method': 'POST', ':path': '/mocked-upload' }, { body: upload });
    assert.equal(response.status, 201);
    assert.equal(response.text, 'mocked');
    const flow = await proxy.waitForFlow((candidate) => candidate.request.url.endsWith('/mocked-upload'));
    assert.equal(flow.error, undefined);
    const recorded = flow.request.bodyStore.recorded();
    assert.deepEqual(recorded.data, upload.subarray(0, 1024));
    assert.equal(recorded.truncated, true);
  });

  it('streams 100 MiB through hooks that do not read bodies without growing memory', async (t) => {
    const mock = mockServer();
    mock.post('https://never.test/*', { body: { never: true } }).reply(200, { never: true });
    const ended = deferred<Flow>();
    const proxy = await proxies.start(t, [
      setHeaders({ request: { 'x-stream': 'yes' }, response: { 'x-streamed': 'yes' } }),
      mock.hook,
      {
        name: 'observer',
        onRequest: (flow) => void flow.tags.add('seen'),
        onResponse: (flow) => void flow.response?.headers['content-type'],
      },
      { name: 'end', onFlowEnd: (flow) => void (flow.request.url.includes('/big') && ended.resolve(flow)) },
    ]);
    const via = agent(proxy.port);
    // Warm up on the same connections with a smaller transfer: the leaf is minted, and the one-time
    // growth of the allocator's and OpenSSL's buffers happens here, so rss below measures the body.
    const warmUp = await streamDownload(() =>
      request({ agent: via, host: 'localhost', port: origin.port, path: `/big?bytes=${16 * MiB}` }),
    );
    assert.equal(warmUp.bytes, 16 * MiB);
    const bytes = 100 * MiB;
    const rssBefore = process.memoryUsage.rss();
    const result = await streamDownload(() => request({ agent: via, host: 'localhost', port: origin.port, path: `/big?bytes=${bytes}` }));
    const rssAfter = process.memoryUsage.rss();
    const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
    t.diagnostic(`rss before ${mib(rssBefore)}, peak ${mib(result.peakRss)} (+${mib(result.peakRss - rssBefore)}), after ${mib(rssAfter)}`);
    assert.equal(result.status, 200);
    assert.equal(result.bytes, bytes);
    assert.equal(result.sha256, bigSha256(bytes));
    assert.ok(result.peakRss - rssBefore < 48 * MiB, `rss grew by ${mib(result.peakRss - rssBefore)} while streaming`);
    const flow = await ended.promise;
    assert.ok(flow.tags.has('seen'));
    assert.equal(flow.response?.headers['x-streamed'], 'yes');
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MitmAgent, send, sendViaProxy } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { startCustomOrigin } from '../helpers/custom-origin.js';
import { bigSha256, startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { run } from '../helpers/run.js';
import { slowDownload } from '../helpers/slow-reader.js';
import { leafViaSClient, opensslSubject, opensslVerify } from '../helpers/tls-probe.js';

// HTTPS interception: CONNECT, a leaf minted by the proxy's CA, and a verified TLS hop to the origin.
describe('proxy: HTTPS interception', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  /** A plain HTTP origin, for probes that must not touch the HTTPS one. */
  let plainOrigin: Origin;
  let mitm: TestProxy;
  let mitmCa: string;
  const agents: MitmAgent[] = [];
  const agent = (options?: { maxSockets?: number }): MitmAgent => {
    const created = new MitmAgent(mitm.port, mitmCa, options);
    agents.push(created);
    return created;
  };

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
    plainOrigin = await startOrigin();
    mitm = await startTestProxy(pki);
    mitmCa = await readFile(mitm.caPath, 'utf8');
  });

  after(async () => {
    for (const created of agents) created.destroy();
    await mitm?.close();
    await origin?.close();
    await plainOrigin?.close();
    await pki?.cleanup();
  });

  it('intercepts curl https://localhost with a certificate curl trusts only through the mitm CA', async () => {
    const url = `https://localhost:${origin.port}/hello`;
    const res = await curlVia(mitm.url, [url], mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.connectStatus, 200);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    const flow = await mitm.flows.waitFor((f) => f.url === url);
    assert.equal(flow.status, 200);
    assert.equal(flow.responseBytes, 5);

    // Trusting only the origin's real CA must fail: the client is talking to the proxy's leaf.
    const direct = await curlVia(mitm.url, [url], pki.ca.certPath);
    assert.equal(direct.exitCode, 60, `curl should reject the proxy's leaf without the mitm CA: ${direct.stderr}`);
  });

  it('intercepts https://127.0.0.1 (IP SAN) for curl', async () => {
    const res = await curlVia(mitm.url, [`https://127.0.0.1:${origin.port}/hello`], mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
  });

  it('forwards a POST body through the tunnel for curl', async () => {
    const upload = randomBytes(2 * 1024 * 1024);
    const file = join(pki.dir, 'https-upload.bin');
    await writeFile(file, upload);
    const res = await curlVia(mitm.url, ['--data-binary', `@${file}`, `https://localhost:${origin.port}/echo?via=curl`], mitm.caPath);
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo?via=curl');
    assert.equal(echo.headers['host'], `localhost:${origin.port}`);
    assert.equal(echo.bodySha256, createHash('sha256').update(upload).digest('hex'));
  });

  it("passes on the final answer after an origin's interim 103, and chunked uploads (both HTTP/1.1 origin paths)", async () => {
    // undici carries Content-Length requests, Node's agent chunked ones; each must skip the 1xx.
    const interim = await startCustomOrigin((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.end(`${req.headers['transfer-encoding'] ?? 'length'}:${Buffer.concat(chunks).toString()}`);
      });
    }, pki.origin);
    try {
      const sized = await curlVia(mitm.url, ['--data-binary', 'sized body', `${interim.url}/`], mitm.caPath);
      assert.equal(sized.status, 200, sized.stderr);
      assert.equal(sized.text, 'length:sized body');
      const chunked = await curlVia(mitm.url, ['-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked body', `${interim.url}/`], mitm.caPath);
      assert.equal(chunked.status, 200, chunked.stderr);
      assert.equal(chunked.text, 'chunked:chunked body');
    } finally {
      await interim.close();
    }
  });

  it('serves node:http over CONNECT + tls.connect (verifying with the mitm CA)', async () => {
    const via = agent();
    const hello = await send({ agent: via, host: 'localhost', port: origin.port, path: '/hello' });
    assert.equal(hello.status, 200);
    assert.equal(hello.text, 'hello');

    const res = await send({ agent: via, host: 'localhost', port: origin.port, path: '/echo', method: 'POST', body: 'posted by node' });
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'posted by node');

    const byIp = await send({ agent: agent(), host: '127.0.0.1', port: origin.port, path: '/hello' });
    assert.equal(byIp.text, 'hello');
  });

  it('mints a leaf for the SNI name, issued by the mitm CA (openssl s_client)', async () => {
    const leaf = await leafViaSClient(mitm.port, `localhost:${origin.port}`, 'localhost', pki.dir, 'leaf-localhost.pem');
    assert.equal(leaf.issuer, await opensslSubject(mitm.caPath));
    assert.match(leaf.opensslText, /DNS:localhost\b/);
    const ca = new X509Certificate(mitmCa);
    assert.equal(leaf.x509.issuer, ca.subject);
    assert.ok(leaf.x509.checkIssued(ca), 'leaf must name the mitm CA as issuer');
    assert.ok(leaf.x509.verify(ca.publicKey), 'leaf must be signed by the mitm CA key');
    assert.equal(leaf.x509.ca, false, 'a leaf must not be a CA');
    assert.equal(leaf.x509.checkHost('localhost'), 'localhost');
    const verdict = await opensslVerify(mitm.caPath, leaf.path);
    assert.ok(verdict.ok, verdict.output);
    // And it is not the origin's own certificate.
    assert.notEqual(leaf.x509.fingerprint256, new X509Certificate(pki.origin.cert).fingerprint256);
  });

  it('mints an IP SAN leaf for an IP CONNECT target without SNI (openssl s_client)', async () => {
    const leaf = await leafViaSClient(mitm.port, `127.0.0.1:${origin.port}`, undefined, pki.dir, 'leaf-ip.pem');
    assert.equal(leaf.issuer, await opensslSubject(mitm.caPath));
    assert.match(leaf.opensslText, /IP Address:127\.0\.0\.1\b/);
    assert.equal(leaf.x509.checkIP('127.0.0.1'), '127.0.0.1');
    const verdict = await opensslVerify(mitm.caPath, leaf.path);
    assert.ok(verdict.ok, verdict.output);
  });

  it('keeps an intercepted connection alive: curl reuses it', async () => {
    const url = `https://localhost:${origin.port}/hello`;
    const res = await run('curl', ['-q', '-sS', '-v', '--proxy', mitm.url, '--cacert', mitm.caPath, url, url]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString(), 'hellohello');
    assert.match(res.stderr, /Re-using existing connection/);
  });

  it('keeps an intercepted connection alive: two requests on one TLS socket, one origin connection', async () => {
    const via = agent({ maxSockets: 1 });
    const connectionsBefore = origin.connectionCount();
    const first = await send({ agent: via, host: 'localhost', port: origin.port, path: '/echo?keepalive=1' });
    const second = await send({ agent: via, host: 'localhost', port: origin.port, path: '/echo?keepalive=2' });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(via.tunnelsOpened, 1, 'the second request must reuse the tunnel');
    assert.equal(first.socket, second.socket);
    const flow1 = await mitm.flows.waitFor((f) => f.url.endsWith('/echo?keepalive=1'));
    const flow2 = await mitm.flows.waitFor((f) => f.url.endsWith('/echo?keepalive=2'));
    assert.equal(flow1.client.port, flow2.client.port);
    // Upstream keep-alive: sequential requests share one origin connection (at most one new one).
    assert.ok(origin.connectionCount() - connectionsBefore <= 1, 'the proxy must reuse its origin connection');
  });

  it('answers 200 parallel requests (node, 50 kept-alive tunnels) each with its own body', async () => {
    const via = agent({ maxSockets: 50 });
    const post = (i: number): ReturnType<typeof send> =>
      send({ agent: via, host: 'localhost', port: origin.port, path: `/echo?i=${i}`, method: 'POST', body: `request ${i}` });
    // Open the 50 tunnels first: Agent counts a socket only once createConnection delivers it, so
    // 200 requests issued at once would each open their own tunnel instead of queueing for 50.
    await Promise.all(Array.from({ length: 50 }, (_, i) => post(-1 - i)));
    assert.equal(via.tunnelsOpened, 50);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i)));
    results.forEach((res, i) => {
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.text) as EchoBody;
      assert.equal(echo.url, `/echo?i=${i}`);
      assert.equal(echo.body, `request ${i}`);
    });
    assert.equal(via.tunnelsOpened, 50, 'the 200 requests must share the 50 kept-alive tunnels');
  });

  it('answers 200 requests on 200 simultaneous tunnels', async () => {
    const via = agent({ maxSockets: 200 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send({ agent: via, host: 'localhost', port: origin.port, path: `/echo?t=${i}` })),
    );
    results.forEach((res, i) => assert.equal((JSON.parse(res.text) as EchoBody).url, `/echo?t=${i}`));
    assert.equal(via.tunnelsOpened, 200);
  });

  it('answers 200 parallel requests from curl --parallel', async () => {
    const config = Array.from(
      { length: 200 },
      (_, i) => `url = "https://localhost:${origin.port}/hello?i=${i}"\noutput = "/dev/null"\n`,
    ).join('');
    const configFile = join(pki.dir, 'parallel.curl');
    await writeFile(configFile, config);
    const result = await run('curl', ['-q', '-sS', '-Z', '--parallel-max', '50', '--proxy', mitm.url, '--cacert', mitm.caPath,
      '-w', '%{http_code} %{size_download}\\n', '-K', configFile], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.toString('utf8').trim().split('\n');
    assert.equal(lines.length, 200);
    assert.deepEqual(new Set(lines), new Set(['200 5']));
  });

  it('streams a 16 MiB download intact', async () => {
    const bytes = 16 * 1024 * 1024;
    const result = await run('curl', ['-q', '-sS', '--proxy', mitm.url, '--cacert', mitm.caPath, `https://localhost:${origin.port}/big?bytes=${bytes}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, bytes);
    assert.equal(createHash('sha256').update(result.stdout).digest('hex'), bigSha256(bytes));
  });

  it('holds the origin back for a slow reader: bounded bytes in flight and memory (64 MiB body)', async (t) => {
    const bytes = 64 * 1024 * 1024;
    const via = agent({ maxSockets: 1 });
    // Warm up first (leaf minted, TLS contexts built, origin connection pooled) so rss measures the transfer.
    await send({ agent: via, host: 'localhost', port: origin.port, path: '/hello' });
    const result = await slowDownload(
      origin,
      () => {
        const req = request({ agent: via, host: 'localhost', port: origin.port, path: `/big?bytes=${bytes}` });
        req.end();
        return req;
      },
      () => sendViaProxy(mitm.port, `http://127.0.0.1:${plainOrigin.port}/hello`),
    );
    assert.equal(result.status, 200);
    assert.equal(result.received, bytes);
    assert.equal(result.sha256, bigSha256(bytes));
    assert.ok(result.rounds >= 1, 'backpressure never reached the origin: the proxy read it regardless of the client');
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    t.diagnostic(`rounds ${result.rounds}, max in flight ${mib(result.maxInFlight)}, peak rss growth ${mib(result.peakRssGrowth)}`);
    assert.ok(result.maxInFlight < bytes / 2, `up to ${mib(result.maxInFlight)} were in flight: the proxy buffers instead of pausing the origin`);
    assert.ok(result.peakRssGrowth < 64 * 2 ** 20, `rss grew by ${mib(result.peakRssGrowth)}`);
  });

  it('holds the origin back for a slow reader over plain HTTP too', async (t) => {
    const bytes = 64 * 1024 * 1024;
    const url = `http://127.0.0.1:${plainOrigin.port}/big?bytes=${bytes}`;
    const probeAgent = agent();
    const result = await slowDownload(
      plainOrigin,
      () => {
        const req = request({ host: '127.0.0.1', port: mitm.port, path: url, headers: { host: new URL(url).host }, agent: false });
        req.end();
        return req;
      },
      () => send({ agent: probeAgent, host: 'localhost', port: origin.port, path: '/hello' }),
    );
    assert.equal(result.sha256, bigSha256(bytes));
    t.diagnostic(`rounds ${result.rounds}, max in flight ${(result.maxInFlight / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(result.rounds >= 1, 'backpressure never reached the origin');
    assert.ok(result.maxInFlight < bytes / 2, `${result.maxInFlight} bytes were in flight`);
  });

  it('still serves after all of the above', async () => {
    const res = await curlVia(mitm.url, [`https://localhost:${origin.port}/hello`], mitm.caPath);
    assert.equal(res.text, 'hello');
  });
});

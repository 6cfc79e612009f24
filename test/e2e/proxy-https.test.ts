import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MitmAgent, send, sendViaProxy } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { startCustomOrigin } from '../helpers/custom-origin.js';
import { onceWithin } from '../helpers/deadline.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import { bigSha256, startOrigin, type EchoBody } from '../helpers/origin.js';
import { run } from '../helpers/run.js';
import { slowDownload } from '../helpers/slow-reader.js';
import { leafViaSClient, opensslSubject, opensslVerify } from '../helpers/tls-probe.js';

// HTTPS interception: CONNECT, a leaf minted by the proxy's CA, and a verified TLS hop to the fx.origin.
// Each test stands alone: its own URLs (so a flow it waits for is its own), and where it counts
// origin connections, an origin of its own.
describe('proxy: HTTPS interception', { timeout: 60_000 }, () => {
  // plainOrigin: a plain HTTP origin, for probes that must not touch the HTTPS one.
  const fx = e2eFixture({ origins: { origin: httpsOrigin, plainOrigin: httpOrigin }, proxies: { mitm: {} } });
  const agent = (options?: { maxSockets?: number }): MitmAgent => {
    const created = new MitmAgent(fx.mitm.port, fx.mitm.caPem, options);
    fx.onClose(() => created.destroy());
    return created;
  };

  it('intercepts curl https://localhost with a certificate curl trusts only through the mitm CA', async () => {
    const url = `https://localhost:${fx.origin.port}/hello?test=curl-intercept`;
    const res = await curlVia(fx.mitm.url, [url], fx.mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.connectStatus, 200);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
    assert.equal(flow.status, 200);
    assert.equal(flow.responseBytes, 5);

    // Trusting only the origin's real CA must fail: the client is talking to the proxy's leaf.
    const direct = await curlVia(fx.mitm.url, [url], fx.pki.ca.certPath);
    assert.equal(direct.exitCode, 60, `curl should reject the proxy's leaf without the mitm CA: ${direct.stderr}`);
  });

  it('intercepts https://127.0.0.1 (IP SAN) for curl', async () => {
    const res = await curlVia(fx.mitm.url, [`https://127.0.0.1:${fx.origin.port}/hello`], fx.mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
  });

  it('forwards a POST body through the tunnel for curl', async () => {
    const upload = randomBytes(2 * 1024 * 1024);
    const file = join(fx.pki.dir, 'https-upload.bin');
    await writeFile(file, upload);
    const res = await curlVia(
      fx.mitm.url,
      ['--data-binary', `@${file}`, `https://localhost:${fx.origin.port}/echo?via=curl`],
      fx.mitm.caPath,
    );
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo?via=curl');
    assert.equal(echo.headers.host, `localhost:${fx.origin.port}`);
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
    }, fx.pki.origin);
    try {
      const sized = await curlVia(fx.mitm.url, ['--data-binary', 'sized body', `${interim.url}/`], fx.mitm.caPath);
      assert.equal(sized.status, 200, sized.stderr);
      assert.equal(sized.text, 'length:sized body');
      const chunked = await curlVia(
        fx.mitm.url,
        ['-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked body', `${interim.url}/`],
        fx.mitm.caPath,
      );
      assert.equal(chunked.status, 200, chunked.stderr);
      assert.equal(chunked.text, 'chunked:chunked body');
    } finally {
      await interim.close();
    }
  });

  it('serves node:http over CONNECT + tls.connect (verifying with the mitm CA)', async () => {
    const via = agent();
    const hello = await send({ agent: via, host: 'localhost', port: fx.origin.port, path: '/hello' });
    assert.equal(hello.status, 200);
    assert.equal(hello.text, 'hello');

    const res = await send({ agent: via, host: 'localhost', port: fx.origin.port, path: '/echo', method: 'POST', body: 'posted by node' });
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'posted by node');

    const byIp = await send({ agent: agent(), host: '127.0.0.1', port: fx.origin.port, path: '/hello' });
    assert.equal(byIp.text, 'hello');
  });

  it('mints a leaf for the SNI name, issued by the mitm CA (openssl s_client)', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `localhost:${fx.origin.port}`, 'localhost', fx.pki.dir, 'leaf-localhost.pem');
    assert.equal(leaf.issuer, await opensslSubject(fx.mitm.caPath));
    assert.match(leaf.opensslText, /DNS:localhost\b/);
    const ca = new X509Certificate(fx.mitm.caPem);
    assert.equal(leaf.x509.issuer, ca.subject);
    assert.ok(leaf.x509.checkIssued(ca), 'leaf must name the mitm CA as issuer');
    assert.ok(leaf.x509.verify(ca.publicKey), 'leaf must be signed by the mitm CA key');
    assert.equal(leaf.x509.ca, false, 'a leaf must not be a CA');
    assert.equal(leaf.x509.checkHost('localhost'), 'localhost');
    const verdict = await opensslVerify(fx.mitm.caPath, leaf.path);
    assert.ok(verdict.ok, verdict.output);
    // And it is not the origin's own certificate.
    assert.notEqual(leaf.x509.fingerprint256, new X509Certificate(fx.pki.origin.cert).fingerprint256);
  });

  it('mints an IP SAN leaf for an IP CONNECT target without SNI (openssl s_client)', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, undefined, fx.pki.dir, 'leaf-ip.pem');
    assert.equal(leaf.issuer, await opensslSubject(fx.mitm.caPath));
    assert.match(leaf.opensslText, /IP Address:127\.0\.0\.1\b/);
    assert.equal(leaf.x509.checkIP('127.0.0.1'), '127.0.0.1');
    const verdict = await opensslVerify(fx.mitm.caPath, leaf.path);
    assert.ok(verdict.ok, verdict.output);
  });

  it('keeps an intercepted connection alive: curl reuses it', async () => {
    const url = `https://localhost:${fx.origin.port}/hello`;
    const res = await run('curl', ['-q', '-sS', '-v', '--proxy', fx.mitm.url, '--cacert', fx.mitm.caPath, url, url]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString(), 'hellohello');
    assert.match(res.stderr, /Re-using existing connection/);
  });

  it('keeps an intercepted connection alive: two requests on one TLS socket, one origin connection', async () => {
    // An origin of its own, so the connection count is this test's alone.
    const own = await startOrigin(fx.pki.origin);
    fx.onClose(() => own.close());
    const via = agent({ maxSockets: 1 });
    const first = await send({ agent: via, host: 'localhost', port: own.port, path: '/echo?keepalive=1' });
    const second = await send({ agent: via, host: 'localhost', port: own.port, path: '/echo?keepalive=2' });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(via.tunnelsOpened, 1, 'the second request must reuse the tunnel');
    assert.equal(first.socket, second.socket);
    const flow1 = await fx.mitm.flows.waitFor((f) => f.url === `https://localhost:${own.port}/echo?keepalive=1`);
    const flow2 = await fx.mitm.flows.waitFor((f) => f.url === `https://localhost:${own.port}/echo?keepalive=2`);
    assert.equal(flow1.client.port, flow2.client.port);
    // Upstream keep-alive: sequential requests share one origin connection.
    assert.equal(own.connectionCount(), 1, 'the proxy must reuse its origin connection');
  });

  it('answers 200 parallel requests (node, 50 kept-alive tunnels) each with its own body', async () => {
    const via = agent({ maxSockets: 50 });
    const post = (i: number): ReturnType<typeof send> =>
      send({ agent: via, host: 'localhost', port: fx.origin.port, path: `/echo?i=${i}`, method: 'POST', body: `request ${i}` });
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
      Array.from({ length: 200 }, (_, i) => send({ agent: via, host: 'localhost', port: fx.origin.port, path: `/echo?t=${i}` })),
    );
    results.forEach((res, i) => {
      assert.equal((JSON.parse(res.text) as EchoBody).url, `/echo?t=${i}`);
    });
    assert.equal(via.tunnelsOpened, 200);
  });

  it('answers 200 parallel requests from curl --parallel', async () => {
    const config = Array.from(
      { length: 200 },
      (_, i) => `url = "https://localhost:${fx.origin.port}/hello?i=${i}"\noutput = "/dev/null"\n`,
    ).join('');
    const configFile = join(fx.pki.dir, 'parallel.curl');
    await writeFile(configFile, config);
    const result = await run(
      'curl',
      [
        '-q',
        '-sS',
        '-Z',
        '--parallel-max',
        '50',
        '--proxy',
        fx.mitm.url,
        '--cacert',
        fx.mitm.caPath,
        '-w',
        '%{http_code} %{size_download}\\n',
        '-K',
        configFile,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.toString('utf8').trim().split('\n');
    assert.equal(lines.length, 200);
    assert.deepEqual(new Set(lines), new Set(['200 5']));
  });

  it('streams a 16 MiB download intact', async () => {
    const bytes = 16 * 1024 * 1024;
    const result = await run('curl', [
      '-q',
      '-sS',
      '--proxy',
      fx.mitm.url,
      '--cacert',
      fx.mitm.caPath,
      `https://localhost:${fx.origin.port}/big?bytes=${bytes}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, bytes);
    assert.equal(createHash('sha256').update(result.stdout).digest('hex'), bigSha256(bytes));
  });

  it('holds the origin back for a slow reader: bounded bytes in flight and memory (64 MiB body)', async (t) => {
    const bytes = 64 * 1024 * 1024;
    const via = agent({ maxSockets: 1 });
    // Warm up first (leaf minted, TLS contexts built, origin connection pooled) so rss measures the transfer.
    await send({ agent: via, host: 'localhost', port: fx.origin.port, path: '/hello' });
    const result = await slowDownload(
      fx.origin,
      () => {
        const req = request({ agent: via, host: 'localhost', port: fx.origin.port, path: `/big?bytes=${bytes}` });
        req.end();
        return req;
      },
      () => sendViaProxy(fx.mitm.port, `http://127.0.0.1:${fx.plainOrigin.port}/hello`),
    );
    assert.equal(result.status, 200);
    assert.equal(result.received, bytes);
    assert.equal(result.sha256, bigSha256(bytes));
    assert.ok(result.rounds >= 1, 'backpressure never reached the origin: the proxy read it regardless of the client');
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    t.diagnostic(`rounds ${result.rounds}, max in flight ${mib(result.maxInFlight)}, peak rss growth ${mib(result.peakRssGrowth)}`);
    assert.ok(
      result.maxInFlight < bytes / 2,
      `up to ${mib(result.maxInFlight)} were in flight: the proxy buffers instead of pausing the origin`,
    );
    assert.ok(result.peakRssGrowth < 64 * 2 ** 20, `rss grew by ${mib(result.peakRssGrowth)}`);
  });

  it('holds the origin back for a slow reader over plain HTTP too', async (t) => {
    const bytes = 64 * 1024 * 1024;
    const url = `http://127.0.0.1:${fx.plainOrigin.port}/big?bytes=${bytes}`;
    const probeAgent = agent();
    const result = await slowDownload(
      fx.plainOrigin,
      () => {
        const req = request({ host: '127.0.0.1', port: fx.mitm.port, path: url, headers: { host: new URL(url).host }, agent: false });
        req.end();
        return req;
      },
      () => send({ agent: probeAgent, host: 'localhost', port: fx.origin.port, path: '/hello' }),
    );
    assert.equal(result.sha256, bigSha256(bytes));
    t.diagnostic(`rounds ${result.rounds}, max in flight ${(result.maxInFlight / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(result.rounds >= 1, 'backpressure never reached the origin');
    assert.ok(result.maxInFlight < bytes / 2, `${result.maxInFlight} bytes were in flight`);
  });

  it('still serves a new client after others abandoned their downloads mid-body', async () => {
    for (let i = 0; i < 3; i += 1) {
      const req = request({ agent: agent(), host: 'localhost', port: fx.origin.port, path: `/big?bytes=${8 * 1024 * 1024}&abandon=${i}` });
      req.on('error', () => undefined);
      req.end();
      const [res] = (await onceWithin(req, 'response', 'the head of a big download')) as [IncomingMessage];
      res.on('error', () => undefined);
      await onceWithin(res, 'data', 'the first bytes of a big download');
      req.destroy();
    }
    const res = await curlVia(fx.mitm.url, [`https://localhost:${fx.origin.port}/hello?test=after-abandoned`], fx.mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
  });
});

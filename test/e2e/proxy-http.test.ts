import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { sendViaProxy } from '../helpers/client.js';
import { curl, curlVia } from '../helpers/curl.js';
import { e2eFixture, httpOrigin } from '../helpers/fixture.js';
import type { EchoBody } from '../helpers/origin.js';
import { run } from '../helpers/run.js';

// Plain HTTP through the proxy: absolute-URI requests on the proxy port, with curl and node:http.
describe('proxy: plain HTTP forwarding', { timeout: 30_000 }, () => {
  const fx = e2eFixture({ origins: { origin: httpOrigin }, proxies: { mitm: {} } });
  /** 'http://127.0.0.1:PORT', the origin as clients address it here. */
  let base: string;

  before(() => {
    base = `http://127.0.0.1:${fx.origin.port}`;
  });

  it('creates a root CA in the CA folder and exposes it as caCertPem', async () => {
    const ca = new X509Certificate(await readFile(fx.mitm.caPath));
    assert.equal(new X509Certificate(fx.mitm.proxy.caCertPem).fingerprint256, ca.fingerprint256);
    assert.equal(ca.ca, true, 'the CA certificate must have basicConstraints CA:TRUE');
    assert.match(fx.mitm.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fx.mitm.url, `http://127.0.0.1:${fx.mitm.port}`);
  });

  it('forwards a GET from curl and records the flow', async () => {
    const res = await curlVia(fx.mitm.url, [`${base}/hello`]);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    assert.equal(res.headers['content-type'], 'text/plain');
    const flow = await fx.mitm.flows.waitFor((f) => f.url === `${base}/hello`);
    assert.equal(flow.method, 'GET');
    assert.equal(flow.status, 200);
    assert.equal(flow.responseBytes, 5);
    assert.equal(flow.error, undefined);
    assert.equal(flow.client.address, '127.0.0.1');
  });

  it('forwards a POST body from curl to the origin', async () => {
    const res = await curlVia(fx.mitm.url, ['--data-binary', 'posted by curl', '-H', 'content-type: text/plain', `${base}/echo`]);
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo', 'the origin must get the origin-form path, not the absolute URI');
    assert.equal(echo.body, 'posted by curl');
    assert.equal(echo.headers.host, `127.0.0.1:${fx.origin.port}`);
  });

  it('streams an 8 MiB upload from curl intact', async () => {
    const upload = randomBytes(8 * 1024 * 1024);
    const file = join(fx.pki.dir, 'upload.bin');
    await writeFile(file, upload);
    const res = await curlVia(fx.mitm.url, ['--data-binary', `@${file}`, `${base}/echo`]);
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.bodyBytes, upload.length);
    assert.equal(echo.bodySha256, createHash('sha256').update(upload).digest('hex'));
  });

  it('forwards GET and POST from node:http with an absolute URL path', async () => {
    const hello = await sendViaProxy(fx.mitm.port, `${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.text, 'hello');

    const body = randomBytes(300_000);
    const res = await sendViaProxy(fx.mitm.port, `${base}/echo?from=node`, { method: 'PUT', body });
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.url, '/echo?from=node');
    assert.equal(echo.bodySha256, createHash('sha256').update(body).digest('hex'));
  });

  it('forwards a chunked upload (no content-length) with its body intact', async () => {
    const res = await sendViaProxy(fx.mitm.port, `${base}/echo`, {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: 'chunked body',
    });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.text) as EchoBody).body, 'chunked body');
  });

  it('drops hop-by-hop request headers, including those named in Connection', async () => {
    const res = await sendViaProxy(fx.mitm.port, `${base}/echo`, {
      headers: {
        connection: 'keep-alive, x-hop-only',
        'x-hop-only': 'must not reach the origin',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        'proxy-connection': 'keep-alive',
        'x-end-to-end': 'kept',
      },
    });
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.headers['x-end-to-end'], 'kept');
    assert.equal(echo.headers['x-hop-only'], undefined);
    assert.equal(echo.headers['proxy-authorization'], undefined);
    assert.equal(echo.headers['proxy-connection'], undefined);
  });

  it("passes the origin's status and response headers through", async () => {
    const missing = await curlVia(fx.mitm.url, [`${base}/status?code=404`]);
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'status');
    assert.equal(missing.headers['x-mitm-error'], undefined, 'an origin 404 is not a proxy error');

    const custom = await curlVia(fx.mitm.url, [`${base}/headers?x-custom=abc&cache-control=no-store`]);
    assert.equal(custom.status, 200);
    assert.equal(custom.headers['x-custom'], 'abc');
    assert.equal(custom.headers['cache-control'], 'no-store');
  });

  it('keeps the client connection alive across requests (curl reuses it)', async () => {
    const res = await run('curl', ['-q', '-sS', '-v', '--proxy', fx.mitm.url, `${base}/hello`, `${base}/hello`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString(), 'hellohello');
    assert.match(res.stderr, /Re-using existing connection/);
  });

  it('answers a relative-URL request on the proxy port with 400 not_a_proxy_request', async () => {
    const res = await curl([`${fx.mitm.url}/hello`]);
    assert.equal(res.status, 400, res.stderr);
    assert.equal(res.headers['x-mitm-error'], 'not_a_proxy_request');
  });
});

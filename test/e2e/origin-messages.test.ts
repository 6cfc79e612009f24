import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendViaProxy, type NodeResponse } from '../helpers/client.js';
import { curlVia, type CurlResult } from '../helpers/curl.js';
import { refusedPort } from '../helpers/listen.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { TestProxies } from '../helpers/proxy.js';

/** Asserts a 502 made by the proxy with `code`, and returns its one-line body. */
function proxyError(res: NodeResponse | CurlResult, code: string): string {
  assert.equal(res.status, 502, res.text);
  assert.equal(res.headers['x-mitm-error'], code);
  const text = res.text.trim();
  assert.ok(!text.includes('\n'), `one line: ${JSON.stringify(text)}`);
  return text;
}

// Issue #11: what the client reads when the origin side fails names the right host and says what to do.
describe('origin side: error messages', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let selfSigned: Origin;
  let dead: number;
  const proxies = new TestProxies();

  before(async () => {
    pki = await createTestPki();
    selfSigned = await startOrigin(pki.selfSigned);
    dead = await refusedPort();
  });

  after(async () => {
    await proxies.closeAll();
    await selfSigned?.close();
    await pki?.cleanup();
  });

  it('plain HTTP through an unreachable upstream proxy names the request host, as HTTPS does', async () => {
    const proxy = await proxies.start(pki, { upstreamProxy: `http://127.0.0.1:${dead}` });
    // Never contacted: the upstream proxy is the one that would have dialled it.
    const originPort = await refusedPort();
    const res = await sendViaProxy(proxy.port, `http://localhost:${originPort}/`);
    assert.equal(
      proxyError(res, 'upstream_proxy_failed'),
      `cannot reach upstream proxy 127.0.0.1:${dead} for localhost:${originPort}: connection refused`,
    );
    // The default port is named too, so the message reads the same whichever port the URL had.
    const onDefaultPort = await sendViaProxy(proxy.port, 'http://localhost/x');
    assert.equal(
      proxyError(onDefaultPort, 'upstream_proxy_failed'),
      `cannot reach upstream proxy 127.0.0.1:${dead} for localhost:80: connection refused`,
    );
  });

  it('an untrusted origin certificate: the answer says how to trust it or skip the check', async () => {
    const proxy = await proxies.start(pki);
    const res = await curlVia(proxy.url, [`https://localhost:${selfSigned.port}/hello`], proxy.caPath);
    const text = proxyError(res, 'upstream_tls_verify');
    assert.match(text, new RegExp(`^upstream certificate verification failed for localhost:${selfSigned.port}: self-signed certificate`));
    assert.match(text, / — trust the origin's CA with --upstream-ca FILE, or use --insecure$/);
  });
});

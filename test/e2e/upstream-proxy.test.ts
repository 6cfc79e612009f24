import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { refusedConnect } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { refusedPort } from '../helpers/listen.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { type startTestProxy, TestProxies, type TestProxy } from '../helpers/proxy.js';
import { leafViaSClient } from '../helpers/tls-probe.js';
import { startHttpUpstreamProxy, startSocksUpstream, type TestUpstreamProxy } from '../helpers/upstream-proxies.js';

const BASIC_UP = `Basic ${Buffer.from('up:secret').toString('base64')}`;

// --upstream-proxy: curl → mitm → upstream proxy (HTTP CONNECT or SOCKS5) → origin.
describe('proxy: upstream proxies', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let selfSigned: Origin;
  let plain: Origin;
  let httpUpstream: TestUpstreamProxy;
  let authUpstream: TestUpstreamProxy;
  let socksUpstream: TestUpstreamProxy;
  const proxies = new TestProxies();
  const mitm = (options: Parameters<typeof startTestProxy>[1]): Promise<TestProxy> => proxies.start(pki, options);

  before(async () => {
    pki = await createTestPki();
    [origin, selfSigned, plain] = await Promise.all([startOrigin(pki.origin), startOrigin(pki.selfSigned), startOrigin()]);
    [httpUpstream, authUpstream, socksUpstream] = await Promise.all([
      startHttpUpstreamProxy(),
      startHttpUpstreamProxy({ credentials: BASIC_UP }),
      startSocksUpstream(),
    ]);
  });

  after(async () => {
    await proxies.closeAll();
    await Promise.all([httpUpstream, authUpstream, socksUpstream].map((upstream) => upstream?.close()));
    await Promise.all([origin, selfSigned, plain].map((server) => server?.close()));
    await pki?.cleanup();
  });

  it('intercepted HTTPS goes through an HTTP upstream proxy as CONNECT, verified end to end', async () => {
    const proxy = await mitm({ upstreamProxy: `http://127.0.0.1:${httpUpstream.port}` });
    const res = await curlVia(proxy.url, [`https://localhost:${origin.port}/hello`], proxy.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
    const seen = await httpUpstream.requests.waitFor((r) => r.target === `localhost:${origin.port}`);
    assert.equal(seen.method, 'CONNECT');
    assert.equal(seen.credentials, undefined);

    // The upstream proxy only carries bytes: an untrusted origin is still refused by us.
    const untrusted = await curlVia(proxy.url, [`https://localhost:${selfSigned.port}/hello`], proxy.caPath);
    assert.equal(untrusted.status, 502, untrusted.stderr);
    assert.equal(untrusted.headers['x-mitm-error'], 'upstream_tls_verify');
    await httpUpstream.requests.waitFor((r) => r.target === `localhost:${selfSigned.port}`);
  });

  it('an https:// upstream proxy gets TLS itself, verified with the trusted CAs', async () => {
    const secureUpstream = await startHttpUpstreamProxy({ tls: pki.origin });
    try {
      const proxy = await mitm({ upstreamProxy: `https://localhost:${secureUpstream.port}` });
      const res = await curlVia(proxy.url, [`https://localhost:${origin.port}/hello`], proxy.caPath);
      assert.equal(res.text, 'hello', res.stderr);
      const plainRes = await curlVia(proxy.url, [`http://localhost:${plain.port}/hello`]);
      assert.equal(plainRes.text, 'hello', plainRes.stderr);
      await secureUpstream.requests.waitFor((r) => r.method === 'CONNECT' && r.target === `localhost:${origin.port}`);
      await secureUpstream.requests.waitFor((r) => r.method === 'GET' && r.target === `http://localhost:${plain.port}/hello`);

      // A proxy certificate that does not verify is refused before any credentials are sent.
      const untrustedUpstream = await mitm({ upstreamProxy: `https://127.0.0.1:${secureUpstream.port}`, upstreamCa: [] });
      // The intercepted CONNECT is answered once the origin is dialled, so the failure is its answer.
      const refused = await within(refusedConnect(untrustedUpstream.port, `localhost:${origin.port}`), 'the CONNECT answer', 5_000);
      assert.equal(refused.status, 502);
      assert.equal(refused.headers['x-mitm-error'], 'upstream_proxy_failed');
      assert.match(
        refused.text,
        new RegExp(`^cannot reach upstream proxy 127\\.0\\.0\\.1:${secureUpstream.port} for localhost:${origin.port}: `),
      );
    } finally {
      await secureUpstream.close();
    }
  });

  it('plain HTTP goes to an HTTP upstream proxy as an absolute-form request', async () => {
    const proxy = await mitm({ upstreamProxy: `http://127.0.0.1:${httpUpstream.port}` });
    const url = `http://localhost:${plain.port}/echo?via=upstream`;
    const res = await curlVia(proxy.url, [url]);
    assert.equal(res.status, 200, res.stderr);
    assert.equal((JSON.parse(res.text) as EchoBody).url, '/echo?via=upstream');
    const seen = await httpUpstream.requests.waitFor((r) => r.target === url);
    assert.equal(seen.method, 'GET');
  });

  it('credentials in the URL become Proxy-Authorization; wrong ones give a 502 naming the upstream proxy', async () => {
    const good = await mitm({ upstreamProxy: `http://up:secret@127.0.0.1:${authUpstream.port}` });
    const res = await curlVia(good.url, [`https://localhost:${origin.port}/hello`], good.caPath);
    assert.equal(res.text, 'hello', res.stderr);
    const seen = await authUpstream.requests.waitFor((r) => r.method === 'CONNECT' && r.credentials !== undefined);
    assert.equal(seen.credentials, BASIC_UP);
    const plainRes = await curlVia(good.url, [`http://localhost:${plain.port}/hello`]);
    assert.equal(plainRes.text, 'hello', plainRes.stderr);
    await authUpstream.requests.waitFor((r) => r.method === 'GET' && r.credentials === BASIC_UP);

    const bad = await mitm({ upstreamProxy: `http://up:wrong@127.0.0.1:${authUpstream.port}` });
    const refused = await within(refusedConnect(bad.port, `localhost:${origin.port}`), 'the CONNECT answer', 5_000);
    assert.equal(refused.status, 502);
    assert.equal(refused.headers['x-mitm-error'], 'upstream_proxy_failed');
    assert.equal(
      refused.text,
      `upstream proxy 127.0.0.1:${authUpstream.port} refused CONNECT localhost:${origin.port}: 407 Proxy Authentication Required\n`,
    );
    assert.doesNotMatch(refused.text, /wrong|secret/);
  });

  it('pass-through tunnels go through the upstream proxy too; the client sees the origin certificate', async () => {
    const proxy = await mitm({ upstreamProxy: `http://127.0.0.1:${httpUpstream.port}`, passthrough: ['localhost'] });
    const leaf = await leafViaSClient(proxy.port, `localhost:${origin.port}`, 'localhost', pki.dir, 'upstream-pass.pem');
    assert.equal(leaf.x509.fingerprint256, new X509Certificate(pki.origin.cert).fingerprint256);
    const tunnel = await proxy.tunnels.waitFor((t) => t.port === origin.port);
    assert.equal(tunnel.error, undefined);
    assert.ok(httpUpstream.requests.items.some((r) => r.method === 'CONNECT' && r.target === `localhost:${origin.port}`));
  });

  it('SOCKS5 upstream: socks5h sends the name, socks5 resolves it first; HTTPS and plain HTTP both work', async () => {
    const remote = await mitm({ upstreamProxy: `socks5h://127.0.0.1:${socksUpstream.port}` });
    const res = await curlVia(remote.url, [`https://localhost:${origin.port}/hello`], remote.caPath);
    assert.equal(res.text, 'hello', res.stderr);
    const byName = await socksUpstream.requests.waitFor((r) => r.target === `localhost:${origin.port}`);
    assert.equal(byName.atyp, 3);

    const local = await mitm({ upstreamProxy: `socks5://127.0.0.1:${socksUpstream.port}` });
    const plainRes = await curlVia(local.url, [`http://localhost:${plain.port}/hello`]);
    assert.equal(plainRes.text, 'hello', plainRes.stderr);
    const byAddress = await socksUpstream.requests.waitFor((r) => r.target === `127.0.0.1:${plain.port}`);
    assert.equal(byAddress.atyp, 1);
  });

  it('--upstream-bypass: matching hosts are dialled directly, others still go through the proxy', async () => {
    const upstream = await startHttpUpstreamProxy();
    try {
      const proxy = await mitm({ upstreamProxy: `http://127.0.0.1:${upstream.port}`, upstreamBypass: 'localhost, 10.0.0.0/8' });
      const direct = await curlVia(proxy.url, [`https://localhost:${origin.port}/hello`], proxy.caPath);
      assert.equal(direct.text, 'hello', direct.stderr);
      const viaUpstream = await curlVia(proxy.url, [`https://127.0.0.1:${origin.port}/hello`], proxy.caPath);
      assert.equal(viaUpstream.text, 'hello', viaUpstream.stderr);
      await upstream.requests.waitFor((r) => r.target === `127.0.0.1:${origin.port}`);
      assert.deepEqual(
        upstream.requests.items.filter((r) => r.target.includes('localhost')),
        [],
        'the bypassed host never reached the upstream proxy',
      );
    } finally {
      await upstream.close();
    }
  });

  it('an unreachable upstream proxy is a 502 upstream_proxy_failed naming it', async () => {
    const dead = await refusedPort();

    const proxy = await mitm({ upstreamProxy: `http://127.0.0.1:${dead}` });
    const res = await within(refusedConnect(proxy.port, `localhost:${origin.port}`), 'the CONNECT answer', 5_000);
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-mitm-error'], 'upstream_proxy_failed');
    assert.equal(res.text, `cannot reach upstream proxy 127.0.0.1:${dead} for localhost:${origin.port}: connection refused\n`);

    const tunnelled = await mitm({ upstreamProxy: `socks5://127.0.0.1:${dead}`, passthrough: ['localhost'] });
    const connect = await curlVia(tunnelled.url, [`https://localhost:${origin.port}/hello`], pki.ca.certPath);
    assert.equal(connect.connectStatus, 502, connect.stderr);
    const tunnel = await tunnelled.tunnels.waitFor((t) => t.port === origin.port);
    assert.equal(tunnel.error?.code, 'upstream_proxy_failed');
  });
});

// --resolve NAME=ADDR: the proxy's own origin lookups, like curl's --resolve. Every name here is
// under .test and mapped, and the proxy's resolver is replaced by one that records and refuses, so
// no lookup can leave the machine unnoticed.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { MitmAgent, send } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createLeaf, createTestPki, type CertPair, type TestPki } from '../helpers/pki.js';
import { TestProxies } from '../helpers/proxy.js';
import { leafViaSClient } from '../helpers/tls-probe.js';

const DEADLINE_MS = 10_000;

describe('proxy: --resolve NAME=ADDR', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let apiLeaf: CertPair;
  let origin: Origin;
  let plain: Origin;
  const proxies = new TestProxies();
  // Every name the proxy asked its resolver for: --resolve must answer before it is consulted.
  const lookedUp: string[] = [];
  const lookup = async (host: string): Promise<string> => {
    lookedUp.push(host);
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };

  before(async () => {
    pki = await createTestPki();
    apiLeaf = await createLeaf(pki, 'api-test', ['api.test', '*.api.test']);
    [origin, plain] = await Promise.all([startOrigin(apiLeaf), startOrigin()]);
  });

  after(async () => {
    await proxies.closeAll();
    await Promise.all([origin?.close(), plain?.close()]);
    await pki?.cleanup();
    assert.deepEqual(lookedUp, [], 'no name may reach the resolver');
  });

  it('curl reaches https://api.test through the proxy; the origin is verified as api.test', async () => {
    const proxy = await proxies.start(pki, { resolve: ['api.test=127.0.0.1'], lookup });
    const res = await within(curlVia(proxy.url, [`https://api.test:${origin.port}/echo`], proxy.caPath), 'curl', DEADLINE_MS);
    assert.equal(res.connectStatus, 200, res.stderr);
    assert.equal(res.status, 200, res.stderr);
    assert.equal((JSON.parse(res.text) as EchoBody).headers.host, `api.test:${origin.port}`);
    const flow = await within(
      proxy.flows.waitFor((f) => f.url === `https://api.test:${origin.port}/echo`),
      'the flow',
      DEADLINE_MS,
    );
    assert.equal(flow.error, undefined);
  });

  it('a Node client reaches it too, and a glob maps every subdomain', async () => {
    const proxy = await proxies.start(pki, { resolve: ['*.api.test=127.0.0.1', 'api.test=[::ffff:127.0.0.1]'], lookup });
    const agent = new MitmAgent(proxy.port, await readFile(proxy.caPath, 'utf8'));
    try {
      for (const host of ['v2.api.test', 'api.test']) {
        const res = await within(send({ agent, host, port: origin.port, path: '/hello' }), `GET via ${host}`, DEADLINE_MS);
        assert.equal(res.status, 200);
        assert.equal(res.text, 'hello');
      }
    } finally {
      agent.destroy();
    }
  });

  it('applies to pass-through tunnels (the client sees the origin certificate) and plain HTTP', async () => {
    const proxy = await proxies.start(pki, { resolve: ['api.test=127.0.0.1', 'plain.test=127.0.0.1'], passthrough: ['api.test'], lookup });
    const leaf = await leafViaSClient(proxy.port, `api.test:${origin.port}`, 'api.test', pki.dir, 'seen-api.pem');
    assert.equal(new X509Certificate(leaf.pem).fingerprint256, new X509Certificate(apiLeaf.cert).fingerprint256);
    const res = await within(curlVia(proxy.url, [`http://plain.test:${plain.port}/hello`]), 'curl plain', DEADLINE_MS);
    assert.equal(res.status, 200, res.stderr);
    assert.equal(res.text, 'hello');
  });

  it('an unmapped name goes to the resolver, and its failure is a 502 upstream_dns to the CONNECT', async () => {
    const failing: string[] = [];
    const proxy = await proxies.start(pki, {
      resolve: ['api.test=127.0.0.1'],
      lookup: async (host) => {
        failing.push(host);
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      },
    });
    const res = await within(curlVia(proxy.url, [`https://elsewhere.test:${origin.port}/hello`], proxy.caPath), 'curl', DEADLINE_MS);
    assert.equal(res.connectStatus, 502, res.stderr);
    assert.equal(res.headers['x-mitm-error'], 'upstream_dns');
    assert.deepEqual(failing, ['elsewhere.test']);
  });
});

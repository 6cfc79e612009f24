// An intercepted CONNECT tells the truth when no onRequest hook could answer its requests: it is
// answered once the origin's TCP connection is up, or with the same readable 502/504 a request
// would have met. With hooks it is answered at once: a hook may mock a host that does not exist.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { MitmAgent, openTunnel, refusedConnect, send } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { startDnsUpstream, type DnsUpstream } from '../helpers/dns-upstream.js';
import { refusedPort } from '../helpers/listen.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { TestProxies } from '../helpers/proxy.js';
import { startSilentServer, type SilentServer } from '../helpers/silent-server.js';

const DEADLINE_MS = 10_000;

describe('proxy: an intercepted CONNECT is answered after the origin is dialled', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let dns: DnsUpstream;
  let silent: SilentServer;
  let dead: number;
  const proxies = new TestProxies();
  // The proxy's resolver, pointed at a local DNS server that knows no names (NXDOMAIN for all).
  const lookups: string[] = [];
  const lookup = async (host: string): Promise<string> => {
    lookups.push(host);
    const resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    const [address] = await resolver.resolve4(host);
    if (address === undefined) throw Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' });
    return address;
  };

  before(async () => {
    pki = await createTestPki();
    [origin, dns, silent, dead] = await Promise.all([startOrigin(pki.origin), startDnsUpstream({}), startSilentServer(), refusedPort()]);
  });

  after(async () => {
    await proxies.closeAll();
    await Promise.all([origin?.close(), dns?.close(), silent?.close()]);
    await pki?.cleanup();
  });

  it('a refused port: 502 upstream_refused to the CONNECT itself, with the one-line body', async () => {
    const proxy = await proxies.start(pki);
    for (const authority of [`127.0.0.1:${dead}`, `localhost:${dead}`]) {
      const res = await within(refusedConnect(proxy.port, authority), `CONNECT ${authority}`, DEADLINE_MS);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-mitm-error'], 'upstream_refused');
      assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
      assert.equal(res.text, `connection refused by ${authority}\n`);
    }
    const tunnel = await within(
      proxy.tunnels.waitFor((t) => t.port === dead && t.host === '127.0.0.1'),
      'the tunnel event',
      DEADLINE_MS,
    );
    assert.equal(tunnel.error?.code, 'upstream_refused');
    assert.equal(tunnel.reason, 'intercept');
  });

  it('a name that does not resolve (NXDOMAIN from a local DNS server): 502 upstream_dns', async () => {
    const proxy = await proxies.start(pki, { lookup });
    const res = await within(refusedConnect(proxy.port, 'nowhere.test:443'), 'CONNECT nowhere.test', DEADLINE_MS);
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-mitm-error'], 'upstream_dns');
    assert.match(res.text, /^cannot resolve the host of nowhere\.test:443 \(ENOTFOUND\)\n$/);
    assert.deepEqual(lookups, ['nowhere.test']);
    assert.equal(dns.seen.get('nowhere.test/A'), 1, 'the query went to the local DNS server');
  });

  it('a dial that does not finish in time: 504 upstream_timeout', async () => {
    // An upstream proxy that accepts and never answers holds the dial until the connect timeout.
    const proxy = await proxies.start(pki, { upstreamProxy: `http://127.0.0.1:${silent.port}`, upstreamTimeout: 300 });
    const res = await within(refusedConnect(proxy.port, `localhost:${origin.port}`), 'CONNECT through a silent proxy', DEADLINE_MS);
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-mitm-error'], 'upstream_timeout');
    assert.match(res.text, /timed out after 300 ms\n$/);
  });

  it('a reachable origin: 200, and the CONNECT connection serves the first request', async () => {
    const proxy = await proxies.start(pki);
    const before = origin.connectionCount();
    const agent = new MitmAgent(proxy.port, await readFile(proxy.caPath, 'utf8'), { maxSockets: 1 });
    try {
      const res = await within(send({ agent, host: 'localhost', port: origin.port, path: '/hello' }), 'GET /hello', DEADLINE_MS);
      assert.equal(res.text, 'hello');
      assert.equal(origin.connectionCount() - before, 1, 'one origin connection: the one dialled for the CONNECT');
    } finally {
      agent.destroy();
    }
  });

  it('plain HTTP inside the tunnel still works', async () => {
    const plain = await startOrigin();
    try {
      const proxy = await proxies.start(pki);
      const tunnel = await within(openTunnel(proxy.port, `127.0.0.1:${plain.port}`), 'CONNECT', DEADLINE_MS);
      assert.equal(tunnel.status, 200);
      tunnel.socket.write(`GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      for await (const chunk of tunnel.socket) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nhello$/);
    } finally {
      await plain.close();
    }
  });

  it('with an onRequest hook: 200 at once for a host that does not exist, then the mock answers; nothing is dialled', async () => {
    const dialled: string[] = [];
    const proxy = await proxies.start(pki, {
      lookup: async (host) => {
        dialled.push(host);
        throw Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' });
      },
      hooks: [
        {
          name: 'mock nowhere.test',
          onRequest(flow) {
            if (new URL(flow.request.url).hostname === 'nowhere.test') flow.respond({ status: 200, body: 'mocked' });
          },
        },
      ],
    });
    const agent = new MitmAgent(proxy.port, await readFile(proxy.caPath, 'utf8'));
    try {
      const res = await within(send({ agent, host: 'nowhere.test', port: 443, path: '/anything' }), 'GET nowhere.test', DEADLINE_MS);
      assert.equal(res.status, 200);
      assert.equal(res.text, 'mocked');
    } finally {
      agent.destroy();
    }
    const flow = await within(
      proxy.flows.waitFor((f) => f.url === 'https://nowhere.test/anything'),
      'the flow',
      DEADLINE_MS,
    );
    assert.equal(flow.error, undefined);
    assert.deepEqual(dialled, [], 'the origin was never looked up');
  });
});

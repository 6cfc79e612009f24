import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { ConnectContext, Flow, Hook, MitmError } from '../../src/index.js';
import { MitmAgent, openTunnel, send, sendViaProxy } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { deferred, hookProxies, type HookProxies } from '../helpers/hook-proxy.js';
import { refusedPort } from '../helpers/listen.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { leafViaSClient, opensslSubject } from '../helpers/tls-probe.js';

/** A real asynchronous step (a file-system round trip), so a hook that is not awaited would be overtaken. */
const realAsyncStep = async (): Promise<void> => {
  await stat(tmpdir());
};

/**
 * Two hooks that log every phase. `a` does real async work before logging and tags the request;
 * `b` logs at once, so `b` only logs after `a` if the pipeline awaited `a`. `b`'s onFlowEnd
 * resolves `ended`, the last event of a flow.
 */
function phaseLoggers(): {
  hooks: Hook[];
  log: string[];
  seenByB: string[];
  connects: ConnectContext[];
  errors: MitmError[];
  ended: Promise<Flow>;
} {
  const log: string[] = [];
  const seenByB: string[] = [];
  const connects: ConnectContext[] = [];
  const errors: MitmError[] = [];
  const ended = deferred<Flow>();
  const a: Hook = {
    name: 'a',
    async onConnect(context) {
      await realAsyncStep();
      connects.push(context);
      log.push('a:connect');
    },
    async onRequest(flow) {
      await realAsyncStep();
      flow.request.headers['x-from-a'] = 'yes';
      log.push('a:request');
    },
    async onResponse(flow) {
      await realAsyncStep();
      if (flow.response) flow.response.headers['x-a-saw'] = String(flow.response.status);
      log.push('a:response');
    },
    async onError(_flow, error) {
      await realAsyncStep();
      errors.push(error);
      log.push('a:error');
    },
    async onFlowEnd() {
      await realAsyncStep();
      log.push('a:flowEnd');
    },
  };
  const b: Hook = {
    name: 'b',
    onConnect: () => void log.push('b:connect'),
    onRequest(flow) {
      seenByB.push(String(flow.request.headers['x-from-a']));
      log.push('b:request');
    },
    onResponse: () => void log.push('b:response'),
    onError: () => void log.push('b:error'),
    onFlowEnd(flow) {
      log.push('b:flowEnd');
      ended.resolve(flow);
    },
  };
  return { hooks: [a, b], log, seenByB, connects, errors, ended: ended.promise };
}

// The hook pipeline end to end: every phase, its order, short-circuits and failures.
describe('hooks: phases and rules', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let proxies: HookProxies;
  let origin: Origin;
  let plain: Origin;
  let dead: number;
  const agents: MitmAgent[] = [];
  const agent = (port: number): MitmAgent => {
    const created = new MitmAgent(port, proxies.caPem);
    agents.push(created);
    return created;
  };

  before(async () => {
    pki = await createTestPki();
    proxies = await hookProxies(pki);
    [origin, plain] = await Promise.all([startOrigin(pki.origin), startOrigin()]);
    dead = await refusedPort();
  });

  after(async () => {
    for (const created of agents) created.destroy();
    await Promise.all([origin?.close(), plain?.close()]);
    await proxies?.cleanup();
    await pki?.cleanup();
  });

  it('runs onRequest, onResponse and onFlowEnd for plain HTTP, in registration order, each awaited', async (t) => {
    const { hooks, log, seenByB, connects, ended } = phaseLoggers();
    const proxy = await proxies.start(t, hooks);
    const res = await sendViaProxy(proxy.port, `${plain.url}/echo`);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.text) as EchoBody).headers['x-from-a'], 'yes', 'the origin must see the header a added');
    assert.equal(res.headers['x-a-saw'], '200', 'the client must see the header a added to the response');
    const flow = await ended;
    assert.deepEqual(log, ['a:request', 'b:request', 'a:response', 'b:response', 'a:flowEnd', 'b:flowEnd']);
    assert.deepEqual(seenByB, ['yes'], 'b must run after a finished');
    assert.equal(connects.length, 0, 'plain HTTP has no CONNECT');
    assert.equal(flow.request.url, `http://localhost:${plain.port}/echo`);
    assert.equal(flow.response?.status, 200);
    assert.equal(flow.error, undefined);
    assert.ok(flow.timings.requestSent !== undefined && flow.timings.responseStart !== undefined && flow.timings.end !== undefined);
    assert.ok(flow.timings.start <= flow.timings.requestSent && flow.timings.requestSent <= flow.timings.end);
  });

  it('runs every phase for intercepted HTTPS, onConnect first with the CONNECT host and port', async (t) => {
    const { hooks, log, seenByB, connects, ended } = phaseLoggers();
    const proxy = await proxies.start(t, hooks);
    const res = await send({ agent: agent(proxy.port), host: 'localhost', port: origin.port, path: '/echo' });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.text) as EchoBody).headers['x-from-a'], 'yes');
    assert.equal(res.headers['x-a-saw'], '200');
    const flow = await ended;
    assert.deepEqual(log, ['a:connect', 'b:connect', 'a:request', 'b:request', 'a:response', 'b:response', 'a:flowEnd', 'b:flowEnd']);
    assert.deepEqual(seenByB, ['yes']);
    assert.equal(connects.length, 1);
    assert.equal(connects[0]?.host, 'localhost');
    assert.equal(connects[0]?.port, origin.port);
    assert.equal(connects[0]?.client.address, '127.0.0.1');
    assert.equal(flow.request.url, `https://localhost:${origin.port}/echo`);
    assert.equal(flow.client.address, '127.0.0.1');
  });

  it('runs onError (not onResponse) when the origin refuses, over HTTP and HTTPS', async (t) => {
    for (const scheme of ['http', 'https'] as const) {
      const { hooks, log, errors, ended } = phaseLoggers();
      const proxy = await proxies.start(t, hooks);
      const res = await curlVia(proxy.url, [`${scheme}://localhost:${dead}/x`], proxies.caPath);
      assert.equal(res.status, 502, `${scheme}: ${res.stderr}`);
      assert.equal(res.headers['x-mitm-error'], 'upstream_refused');
      const flow = await ended;
      const connect = scheme === 'https' ? ['a:connect', 'b:connect'] : [];
      assert.deepEqual(log, [...connect, 'a:request', 'b:request', 'a:error', 'b:error', 'a:flowEnd', 'b:flowEnd'], scheme);
      assert.equal(errors[0]?.code, 'upstream_refused');
      assert.equal(flow.error?.code, 'upstream_refused');
    }
  });

  it('answers from a hook without touching the origin: later onRequest hooks skipped, onResponse still runs', async (t) => {
    const counted: CustomOrigin = await startCustomOrigin((_req, res) => res.end('from origin'), pki.origin);
    t.after(() => counted.close());
    let laterRan = false;
    const seen: { synthetic?: boolean | undefined; body?: string | undefined } = {};
    const proxy = await proxies.start(t, [
      { name: 'mock', onRequest: (flow) => flow.respond({ status: 201, headers: { 'content-type': 'text/plain' }, body: 'mocked' }) },
      {
        name: 'later',
        onRequest: () => {
          laterRan = true;
        },
      },
      {
        name: 'after',
        async onResponse(flow) {
          seen.synthetic = flow.response?.synthetic;
          seen.body = await flow.response?.text();
          if (flow.response) flow.response.headers['x-after'] = 'ran';
        },
      },
    ]);
    for (const url of [`https://localhost:${counted.port}/a`, `http://localhost:${counted.port}/b`]) {
      const res = await curlVia(proxy.url, [url], proxies.caPath);
      assert.equal(res.status, 201, res.stderr);
      assert.equal(res.text, 'mocked');
      assert.equal(res.headers['x-after'], 'ran');
      assert.equal(res.headers['content-length'], '6');
    }
    assert.equal(counted.requestCount(), 0, 'the origin must receive nothing');
    assert.equal(laterRan, false);
    assert.deepEqual(seen, { synthetic: true, body: 'mocked' });
  });

  it('turns a throw in onRequest or onResponse into a 500 naming the hook; the next request succeeds', async (t) => {
    const errors: string[] = [];
    const proxy = await proxies.start(t, [
      {
        name: 'fragile',
        onRequest(flow) {
          if (flow.request.url.endsWith('/boom-request')) throw new Error('request went boom');
        },
        onResponse(flow) {
          if (flow.request.url.endsWith('/boom-response')) throw new TypeError('response went boom');
        },
      },
      { name: 'observer', onError: (_flow, error) => void errors.push(error.code) },
    ]);
    const request = await curlVia(proxy.url, [`https://localhost:${origin.port}/boom-request`], proxies.caPath);
    assert.equal(request.status, 500, request.stderr);
    assert.equal(request.headers['x-mitm-error'], 'hook_failed');
    assert.equal(request.text, 'hook "fragile" failed in onRequest: request went boom\n');
    const response = await curlVia(proxy.url, [`${plain.url}/boom-response`], proxies.caPath);
    assert.equal(response.status, 500);
    assert.equal(response.headers['x-mitm-error'], 'hook_failed');
    assert.equal(response.text, 'hook "fragile" failed in onResponse: response went boom\n');
    assert.deepEqual(errors, ['hook_failed', 'hook_failed']);
    const next = await curlVia(proxy.url, [`https://localhost:${origin.port}/hello`], proxies.caPath);
    assert.equal(next.status, 200);
    assert.equal(next.text, 'hello');
  });

  it('frees the origin connection when an onResponse hook replaces the response (one origin connection allowed)', {
    timeout: 20_000,
  }, async (t) => {
    const proxy = await proxies.start(
      t,
      [{ name: 'swap', onResponse: (flow) => void (flow.request.url.includes('/big') && flow.respond({ status: 299, body: 'swapped' })) }],
      { maxOriginConnections: 1 },
    );
    // The replaced origin body is larger than any socket buffer, so unread it would pin the connection.
    const swapped = await sendViaProxy(proxy.port, `${plain.url}/big?bytes=${8 * 2 ** 20}`);
    assert.equal(swapped.status, 299);
    assert.equal(swapped.text, 'swapped');
    // With the only connection still held by the unread body, this would wait forever.
    const next = await sendViaProxy(proxy.port, `${plain.url}/hello`);
    assert.equal(next.text, 'hello');
  });

  it('answers 500 hook_failed when an onResponse hook sets flow.response to undefined (no crash)', async (t) => {
    const proxy = await proxies.start(t, [
      {
        name: 'drop',
        onResponse: (flow) => {
          flow.response = undefined;
        },
      },
    ]);
    const res = await sendViaProxy(proxy.port, `${plain.url}/hello`);
    assert.equal(res.status, 500);
    assert.equal(res.headers['x-mitm-error'], 'hook_failed');
    assert.match(res.text, /flow\.response to undefined/);
  });

  it('reports a throw in onFlowEnd as a hook-fault event; the client still gets its 200 and later hooks run', async (t) => {
    const laterEnded = deferred();
    const proxy = await proxies.start(t, [
      { name: 'recorder', onFlowEnd: () => Promise.reject(new Error('disk full')) },
      { name: 'after', onFlowEnd: () => laterEnded.resolve() },
    ]);
    const fault = once(proxy, 'hook-fault');
    const res = await sendViaProxy(proxy.port, `${plain.url}/hello`);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    assert.deepEqual(await fault, [{ hook: 'recorder', phase: 'onFlowEnd', message: 'disk full' }]);
    await laterEnded.promise;
  });

  it('re-targets a request by setting flow.request.url (HTTPS to plain HTTP and back)', async (t) => {
    const proxy = await proxies.start(t, [
      {
        name: 'retarget',
        onRequest(flow) {
          const url = new URL(flow.request.url);
          if (url.pathname === '/to-plain') flow.request.url = `${plain.url}/echo?moved=1`;
          if (url.pathname === '/to-https') flow.request.url = `${origin.url}/echo?moved=2`;
        },
      },
    ]);
    const toPlain = await curlVia(proxy.url, [`https://localhost:${origin.port}/to-plain`], proxies.caPath);
    assert.equal(toPlain.status, 200, toPlain.stderr);
    const echoed = JSON.parse(toPlain.text) as EchoBody;
    assert.equal(echoed.url, '/echo?moved=1');
    assert.equal(echoed.headers.host, `localhost:${plain.port}`, 'Host must follow the new URL');
    const toHttps = await curlVia(proxy.url, [`${plain.url}/to-https`]);
    assert.equal(toHttps.status, 200, toHttps.stderr);
    assert.equal((JSON.parse(toHttps.text) as EchoBody).url, '/echo?moved=2');
    const flow = await proxy.waitForFlow((f) => f.request.url.endsWith('moved=2'));
    assert.equal(flow.server?.port, origin.port);
  });

  it("onConnect 'tunnel' shows the client the origin's own certificate, even for a host the flags would intercept", async (t) => {
    const proxy = await proxies.start(t, [{ name: 'hands-off', onConnect: ({ host }) => (host === 'localhost' ? 'tunnel' : undefined) }]);
    const leaf = await leafViaSClient(proxy.port, `localhost:${origin.port}`, 'localhost', pki.dir, 'hook-tunnel-leaf.pem');
    assert.equal(leaf.issuer, await opensslSubject(pki.ca.certPath), 'the leaf must be the origin certificate');
    assert.equal(leaf.x509.fingerprint256, new X509Certificate(pki.origin.cert).fingerprint256);
    // A host the hook leaves alone is still intercepted.
    const other = await leafViaSClient(proxy.port, `127.0.0.1:${origin.port}`, undefined, pki.dir, 'hook-tunnel-other.pem');
    assert.equal(other.issuer, await opensslSubject(proxies.caPath));
  });

  it("onConnect 'intercept' overrides --passthrough; 'reject' answers the CONNECT 403", async (t) => {
    const proxy = await proxies.start(t, [{ name: 'gate', onConnect: ({ port }) => (port === dead ? 'reject' : 'intercept') }], {
      passthrough: ['localhost'],
    });
    const leaf = await leafViaSClient(proxy.port, `localhost:${origin.port}`, 'localhost', pki.dir, 'hook-intercept-leaf.pem');
    assert.equal(leaf.issuer, await opensslSubject(proxies.caPath), 'the hook must win over --passthrough');
    const tunnel = await openTunnel(proxy.port, `localhost:${dead}`);
    tunnel.socket.destroy();
    assert.equal(tunnel.status, 403);
    assert.equal(tunnel.headers['x-mitm-error'], 'connect_rejected');
    const res = await curlVia(proxy.url, [`https://localhost:${dead}/`], proxies.caPath);
    assert.equal(res.connectStatus, 403);
  });

  it('answers a CONNECT whose onConnect hook throws with 500 hook_failed', async (t) => {
    const proxy = await proxies.start(t, [
      {
        name: 'grumpy',
        onConnect: () => {
          throw new Error('no tunnels today');
        },
      },
    ]);
    const tunnel = await openTunnel(proxy.port, `localhost:${origin.port}`);
    tunnel.socket.destroy();
    assert.equal(tunnel.status, 500);
    assert.equal(tunnel.headers['x-mitm-error'], 'hook_failed');
  });
});

// A destination that names the proxy by a name resolving to one of its own listeners (here via
// --resolve, as a DNS record would) is a loop: answered 508 (x-mitm-error: loop), never dialled round again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTunnel } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { e2eFixture } from '../helpers/fixture.js';

describe('loops by name', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ proxies: { proxy: { resolve: ['loop.test=127.0.0.1'] } } });

  it('CONNECT to a name resolving to the proxy itself: 508 to the CONNECT', async () => {
    const tunnel = await openTunnel(fx.proxy.port, `loop.test:${fx.proxy.port}`);
    assert.equal(tunnel.status, 508);
    assert.equal(tunnel.headers['x-mitm-error'], 'loop');
    tunnel.socket.destroy();
  });

  it('a plain request to that name: 508, and the proxy still serves', async () => {
    const result = await curlVia(fx.proxy.url, [`http://loop.test:${fx.proxy.port}/again`]);
    assert.equal(result.status, 508, result.stderr);
    assert.equal(result.headers['x-mitm-error'], 'loop');
    assert.match(result.text, /loop\.test:\d+ is this proxy itself/);
    const flow = await fx.proxy.flows.waitFor((f) => f.url === `http://loop.test:${fx.proxy.port}/again`);
    assert.equal(flow.error?.code, 'loop');
  });
});

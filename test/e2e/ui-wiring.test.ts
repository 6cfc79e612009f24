// startProxy({ ui: true }) and `mitm start --ui`: the inspector starts with the proxy, closes with
// it, answers with its token, and is never reachable through the proxy itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli-process.js';
import { curlVia } from '../helpers/curl.js';
import { e2eFixture, httpsOrigin } from '../helpers/fixture.js';

describe('web inspector wiring', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ origins: { origin: httpsOrigin }, proxies: { proxy: { ui: true, uiPort: 0 } } });

  it('serves the API with the token, and lists the flows the proxy saw', async () => {
    const ui = fx.proxy.proxy.ui;
    assert.ok(ui, 'proxy.ui is set');
    const token = new URL(ui.url).searchParams.get('token') ?? '';
    assert.ok(token.length >= 16);
    const got = await curlVia(fx.proxy.url, [`https://localhost:${fx.origin.port}/hello`], fx.proxy.caPath);
    assert.equal(got.text, 'hello');
    await fx.proxy.flows.waitFor((f) => f.url.endsWith('/hello'));
    const page = await fetch(`${ui.origin}/api/v1/flows?filter=path:/hello`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(page.status, 200);
    const body = (await page.json()) as { total: number };
    assert.equal(body.total, 1);
    const refused = await fetch(`${ui.origin}/api/v1/flows`);
    assert.equal(refused.status, 401);
  });

  it('is a loop through the proxy: never forwarded', async () => {
    const ui = fx.proxy.proxy.ui;
    assert.ok(ui);
    const viaProxy = await curlVia(fx.proxy.url, [`${ui.origin}/api/v1/stats`]);
    assert.equal(viaProxy.status, 508, viaProxy.stderr);
    assert.equal(viaProxy.headers['x-mitm-error'], 'loop');
  });

  it('mitm start --ui prints the inspector URL with its token after the ready line', async () => {
    const cli = new CliProcess(['start', '--port', '0', '--ca', `${fx.pki.dir}/cli-ui-ca`, '--ui', '--ui-port', '0']);
    try {
      await cli.listeningPort();
      const [, url] = await cli.waitForLine('stderr', /^inspector: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/);
      const landing = await fetch(url ?? '', { redirect: 'manual' });
      assert.equal(landing.status, 303);
      assert.match(landing.headers.get('set-cookie') ?? '', /HttpOnly/i);
    } finally {
      await cli.kill();
    }
  });
});

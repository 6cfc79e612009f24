// proxy.replay(id, edits): a kept flow sent again through the proxy that recorded it, edited or
// not; the new flow is recorded next to the original, and the origin gets the edit.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';

/** What a user hook saw of the replay token header (it must never see it). */
const tokensSeenByHooks: Array<string | undefined> = [];

const seen: Array<{ method: string | undefined; path: string | undefined; headers: IncomingMessage['headers']; body: string }> = [];

/** Records what it received; answers 201 with x-version: 2 when the request says x-version: 2. */
function origin(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method, path: req.url, headers: req.headers, body });
    const v2 = req.headers['x-version'] === '2';
    res.writeHead(v2 ? 201 : 200, { 'content-type': 'text/plain', 'x-version': v2 ? '2' : '1' }).end(`got ${req.method} ${body}`);
  });
}

describe('proxy.replay', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: customOrigin(origin, { secure: true }) },
    proxies: {
      mitm: { hooks: [{ name: 'spy', onRequest: (flow) => void tokensSeenByHooks.push(flow.request.header('x-mitm-replay')) }] },
      authed: { proxyAuth: ['qa:secret-pass'] },
      transparentOnly: { mode: ['transparent@127.0.0.1:0'] },
    },
  });

  it('is refused with a clear error on a proxy that requires credentials, or has no regular listener', async () => {
    const { proxy } = fx.authed;
    const ok = await curlVia(fx.authed.url, [`${fx.origin.url}/item`, '--proxy-user', 'qa:secret-pass'], fx.authed.caPath);
    assert.equal(ok.status, 200);
    const kept = await proxy.waitForFlow((flow) => flow.request.url.endsWith('/item'));
    await assert.rejects(proxy.replay(kept.id), { code: 'replay_failed', message: /--proxy-auth/ });
    await assert.rejects(fx.transparentOnly.proxy.replay(1), { code: 'replay_failed', message: /regular listener/ });
  });

  it('sends a kept flow again as it was, recorded as a new flow tagged replayed', async () => {
    const { proxy } = fx.mitm;
    const first = await curlVia(fx.mitm.url, [`${fx.origin.url}/item`, '--data-binary', 'one', '-H', 'x-keep: k'], fx.mitm.caPath);
    assert.equal(first.status, 200);
    const original = await proxy.waitForFlow((flow) => flow.request.url.endsWith('/item'));
    const before = seen.length;
    const replayed = await proxy.replay(original.id);
    assert.notEqual(replayed.flow.id, original.id);
    assert.deepEqual([...replayed.flow.tags], ['replayed', `replay-of:${original.id}`]);
    assert.equal(replayed.flow.response?.status, 200);
    assert.equal(replayed.result.same, true);
    const got = seen[before];
    assert.equal(seen.length, before + 1);
    assert.equal(got?.method, 'POST');
    assert.equal(got?.body, 'one');
    assert.equal(got?.headers['x-keep'], 'k');
    assert.equal(got?.headers['x-mitm-replay'], undefined, 'the token header never reaches the origin');
    assert.ok(tokensSeenByHooks.length >= 2);
    assert.deepEqual(
      tokensSeenByHooks.filter((token) => token !== undefined),
      [],
      'nor any hook: the marker runs first',
    );
    assert.ok(proxy.flows.includes(replayed.flow));
  });

  it('applies edits to method, URL, headers and body; the origin receives them', async () => {
    const { proxy } = fx.mitm;
    await curlVia(fx.mitm.url, [`${fx.origin.url}/edit-me`], fx.mitm.caPath);
    const original = await proxy.waitForFlow((flow) => flow.request.url.endsWith('/edit-me'));
    const before = seen.length;
    const replayed = await proxy.replay(original.id, {
      method: 'PUT',
      url: `${fx.origin.url}/edited`,
      headers: [
        ['x-version', '2'],
        ['content-type', 'text/plain'],
      ],
      body: 'new body',
    });
    const got = seen[before];
    assert.equal(got?.method, 'PUT');
    assert.equal(got?.path, '/edited');
    assert.equal(got?.body, 'new body');
    assert.equal(got?.headers['x-version'], '2');
    assert.equal(replayed.flow.response?.status, 201);
    assert.equal(replayed.result.statusChanged, true);
  });

  it('refuses an unknown flow and a bad edit with replay_failed', async () => {
    const { proxy } = fx.mitm;
    await assert.rejects(proxy.replay(999_999), { code: 'replay_failed', message: /flow 999999 is not kept/ });
    const flow = proxy.flows[0];
    assert.ok(flow);
    await assert.rejects(proxy.replay(flow.id, { method: 'BAD METHOD' }), { code: 'replay_failed', message: /not an HTTP token/ });
  });
});

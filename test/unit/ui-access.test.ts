// The inspector's door, checked with plain HTTP and WebSocket clients (no browser): the token,
// the cookie it becomes, Host (DNS rebinding), Origin (cross-site WebSocket hijacking), the CSP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startUi, type RunningUi } from '../../src/index.js';
import type { PushMessage } from '../../src/ui/api-types.js';
import { within } from '../helpers/deadline.js';
import { buildUiAssets, fakeSummary, MemorySource, uiRequest } from '../helpers/ui.js';

function openWs(ui: RunningUi, headers: Record<string, string>): Promise<{ ws: WebSocket; first: PushMessage } | { status: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/api/v1/push`, { headers });
  return within(
    new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0 });
        res.resume();
        ws.terminate();
      });
      ws.once('message', (data) => resolve({ ws, first: JSON.parse(data.toString()) as PushMessage }));
      ws.once('error', reject);
    }),
    'the push channel to answer',
  );
}

describe('ui access', () => {
  let ui: RunningUi;
  const source = new MemorySource();
  let cookie: string;

  before(async () => {
    ui = await startUi({ port: 0, source, assetsDir: await buildUiAssets() });
    source.push(fakeSummary(1));
  });
  after(() => ui?.close());

  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    assert.equal(ui.host, '127.0.0.1');
    assert.equal(ui.exposed, false);
    assert.match(ui.url, new RegExp(`^http://127\\.0\\.0\\.1:${ui.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });

  it('refuses every path without the token', async () => {
    for (const path of ['/', '/app.js', '/api/v1/flows', '/api/v1/flows/1', '/api/v1/har', '/api/v1/stats']) {
      const answer = await uiRequest(ui.port, path);
      assert.equal(answer.status, 401, path);
      assert.doesNotMatch(answer.text, /item\/1/);
    }
    const wrong = await uiRequest(ui.port, '/?token=nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
  });

  it('turns the token in the URL into an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const answer = await uiRequest(ui.port, `/?token=${ui.token}&q=status%3A5xx`);
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.location, '/?q=status%3A5xx');
    const set = answer.headers['set-cookie']?.[0] ?? '';
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    cookie = set.split(';')[0] ?? '';
    const page = await uiRequest(ui.port, '/', { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\/app.js"/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|https?:/);
    assert.match(csp, /default-src 'none'/);
  });

  it('accepts the token as a Bearer header for scripts', async () => {
    const answer = await uiRequest(ui.port, '/api/v1/flows', { headers: { authorization: `Bearer ${ui.token}` } });
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.text) as { total: number }).total, 1);
  });

  it('refuses a foreign Host even with the token (DNS rebinding)', async () => {
    for (const host of ['evil.test', `evil.test:${ui.port}`, '127.0.0.1:1']) {
      const answer = await uiRequest(ui.port, '/api/v1/flows', { headers: { host, cookie } });
      assert.equal(answer.status, 421, host);
    }
    const ok = await uiRequest(ui.port, '/api/v1/flows', { headers: { host: `localhost:${ui.port}`, cookie } });
    assert.equal(ok.status, 200);
  });

  it('refuses a cross-origin POST', async () => {
    const answer = await uiRequest(ui.port, '/api/v1/clear', { method: 'POST', headers: { cookie, origin: 'http://evil.test' } });
    assert.equal(answer.status, 403);
    assert.equal(source.flows.length, 1);
  });

  it('opens the push channel only with our Origin, our Host and the token', async () => {
    const good = { origin: `http://127.0.0.1:${ui.port}`, cookie };
    assert.deepEqual(await openWs(ui, { origin: 'http://evil.test', cookie }), { status: 403 });
    assert.deepEqual(await openWs(ui, { cookie }), { status: 403 }, 'no Origin');
    assert.deepEqual(await openWs(ui, { origin: good.origin }), { status: 401 }, 'no token');
    assert.deepEqual(await openWs(ui, { ...good, host: `evil.test:${ui.port}` }), { status: 421 });
    const open = await openWs(ui, good);
    assert.ok('ws' in open);
    assert.equal(open.first.type, 'hello');
    open.ws.close();
  });

  it('answers a bad filter with 400 and where it is wrong', async () => {
    const answer = await uiRequest(ui.port, `/api/v1/flows?filter=${encodeURIComponent('status:5xx stauts:4')}`, { headers: { cookie } });
    assert.equal(answer.status, 400);
    const { error } = JSON.parse(answer.text) as { error: { code: string; column: number; length: number; message: string } };
    assert.equal(error.code, 'filter_invalid');
    assert.equal(error.column, 12);
    assert.match(error.message, /did you mean status/);
  });
});

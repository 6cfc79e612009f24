// The inspector API's actions over a running proxy: breakpoint rules, held flows (resume, abort,
// answer), replay, and the push channel's `breakpoints` messages; a store source refuses them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { proxySource, startUi, type HeldFlow, type RunningUi } from '../../src/index.js';
import type { BreakpointState, PushMessage, ReplayAnswer } from '../../src/ui/api-types.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { editEcho } from '../helpers/edit-echo.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { MemorySource, uiRequest } from '../helpers/ui.js';

describe('ui API: breakpoints and replay', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ origins: { origin: customOrigin(editEcho, { secure: true }) }, proxies: { mitm: {} } });
  let ui: RunningUi;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const answer = await uiRequest(ui.port, path, {
      method,
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: answer.status, body: (answer.text === '' ? undefined : JSON.parse(answer.text)) as T };
  };
  const through = (path: string) => curlVia(fx.mitm.url, [`${fx.origin.url}${path}`], fx.mitm.caPath);
  const nextHeld = (): Promise<HeldFlow> => within(new Promise<HeldFlow>((resolve) => fx.mitm.proxy.once('held', resolve)), 'a held flow');

  it('adds and removes rules, refuses a bad filter; resume applies the edits the page sends', async () => {
    ui = await startUi({ port: 0, source: proxySource(fx.mitm.proxy) });
    fx.onClose(() => ui.close());
    const bad = await call<{ error: { code: string; column: number } }>('POST', '/api/v1/breakpoints', { filter: 'status:>>' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'filter_invalid');
    const added = await call<{ id: number }>('POST', '/api/v1/breakpoints', { filter: 'path:/api*', on: 'request' });
    assert.equal(added.status, 201);

    const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/api/v1/push`, {
      headers: { origin: `http://127.0.0.1:${ui.port}`, authorization: `Bearer ${ui.token}` },
    });
    fx.onClose(() => ws.terminate());
    const states: BreakpointState[] = [];
    const heldPushed = within(
      new Promise<BreakpointState>((resolve) =>
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as PushMessage;
          if (message.type !== 'breakpoints') return;
          states.push(message.state);
          if (message.state.held.length > 0) resolve(message.state);
        }),
      ),
      'a pushed breakpoints state with a held flow',
    );

    const held = nextHeld();
    const answer = through('/api/thing');
    const hold = await held;
    const pushed = await heldPushed;
    assert.equal(pushed.held[0]?.flowId, hold.flow.id);
    assert.equal(pushed.held[0]?.method, 'GET');
    const state = await call<BreakpointState>('GET', '/api/v1/breakpoints');
    assert.deepEqual(state.body.rules, [{ id: added.body.id, filter: 'path:/api*', on: 'request' }]);
    assert.equal(state.body.held[0]?.url, `${fx.origin.url}/api/thing`);

    const invalid = await call<{ error: { code: string } }>('POST', `/api/v1/held/${hold.flow.id}/resume`, { method: 'NO PE' });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'breakpoint_edit_invalid');
    const headers = [...(state.body.held[0]?.headers ?? []), ['x-edit', 'from-api']];
    const resumed = await call('POST', `/api/v1/held/${hold.flow.id}/resume`, { method: 'POST', headers, body: 'edited' });
    assert.equal(resumed.status, 204);
    const result = await answer;
    assert.deepEqual(JSON.parse(result.text), { method: 'POST', path: '/api/thing', edit: 'from-api', body: 'edited' });
    const gone = await call<{ error: { code: string } }>('POST', `/api/v1/held/${hold.flow.id}/abort`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'breakpoint_not_held');

    assert.equal((await call('DELETE', `/api/v1/breakpoints/${added.body.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/v1/breakpoints/${added.body.id}`)).status, 404);
    assert.ok(states.some((pushedState) => pushedState.rules.length === 0));
  });

  it('answer and abort release a held flow through the API', async () => {
    const rule = await call<{ id: number }>('POST', '/api/v1/breakpoints', { filter: 'path:/act*' });
    let held = nextHeld();
    let answer = through('/act/answer');
    let hold = await held;
    const mocked = await call('POST', `/api/v1/held/${hold.flow.id}/answer`, {
      status: 299,
      headers: [['x-mock', 'yes']],
      body: 'mocked',
    });
    assert.equal(mocked.status, 204);
    let result = await answer;
    assert.equal(result.status, 299);
    assert.equal(result.text, 'mocked');
    held = nextHeld();
    answer = through('/act/abort');
    hold = await held;
    assert.equal((await call('POST', `/api/v1/held/${hold.flow.id}/abort`)).status, 204);
    result = await answer;
    assert.equal(result.status, 502);
    assert.equal(result.headers['x-mitm-error'], 'breakpoint_aborted');
    await call('DELETE', `/api/v1/breakpoints/${rule.body.id}`);
  });

  it('replays a flow with edits: a new flow whose edit the origin received', async () => {
    await through('/to-replay');
    const original = await fx.mitm.proxy.waitForFlow((flow) => flow.request.url.endsWith('/to-replay'));
    const replayed = await call<ReplayAnswer>('POST', `/api/v1/flows/${original.id}/replay`, {
      headers: [['x-edit', 'replayed-edit']],
    });
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.original, original.id);
    assert.equal(replayed.body.status, 200);
    const flow = fx.mitm.proxy.flows.find((candidate) => candidate.id === replayed.body.flow);
    assert.ok(flow?.tags.has('replayed'));
    const echoed = JSON.parse(flow?.response?.bodyStore.recorded().data.toString() ?? '{}') as { edit: string };
    assert.equal(echoed.edit, 'replayed-edit');
    const missing = await call<{ error: { code: string } }>('POST', '/api/v1/flows/999999/replay', {});
    assert.equal(missing.status, 409);
    assert.equal(missing.body.error.code, 'replay_failed');
  });

  it('the actions sit behind the token, Host and Origin checks', async () => {
    const body = JSON.stringify({ filter: '' });
    const noToken = await uiRequest(ui.port, '/api/v1/breakpoints', { method: 'POST', body });
    assert.equal(noToken.status, 401);
    const foreignOrigin = await uiRequest(ui.port, '/api/v1/breakpoints', {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, origin: 'http://evil.test' },
      body,
    });
    assert.equal(foreignOrigin.status, 403);
    const foreignHost = await uiRequest(ui.port, '/api/v1/breakpoints', {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, host: 'evil.test' },
      body,
    });
    assert.equal(foreignHost.status, 421);
    assert.deepEqual(fx.mitm.proxy.breakpoints.list(), [], 'no rule was added');
  });

  it('a read-only source refuses the actions', async () => {
    const readOnly = await startUi({ port: 0, source: new MemorySource() });
    try {
      const answer = await uiRequest(readOnly.port, '/api/v1/breakpoints', { headers: { authorization: `Bearer ${readOnly.token}` } });
      assert.equal(answer.status, 409);
      assert.match(answer.text, /ui_read_only/);
    } finally {
      await readOnly.close();
    }
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest } from '../../src/flow/flow.js';
import type { HookFault } from '../../src/events.js';
import { HookPipeline } from '../../src/hooks/pipeline.js';
import type { Hook } from '../../src/hooks/types.js';

function makeFlow(): Flow {
  const request = new FlowRequest({
    method: 'GET',
    url: 'https://a.test/x',
    rawHeaders: ['Host', 'a.test'],
    httpVersion: '1.1',
    body: new Body(undefined, { cap: 0, what: 'x' }),
  });
  return new Flow({ id: 1, connectionId: 1, client: { address: '127.0.0.1', port: 1 }, request, start: Date.now() });
}

test('phases run in registration order, each awaited', async () => {
  const seen: string[] = [];
  const pipeline = new HookPipeline(() => undefined);
  const hook = (name: string, delay: boolean): Hook => ({
    name,
    async onRequest() {
      if (delay) await Promise.resolve();
      seen.push(`${name}:request`);
    },
    onResponse() {
      seen.push(`${name}:response`);
    },
  });
  pipeline.use(hook('a', true));
  pipeline.use(hook('b', false));
  const flow = makeFlow();
  await pipeline.request(flow);
  await pipeline.response(flow);
  assert.deepEqual(seen, ['a:request', 'b:request', 'a:response', 'b:response']);
});

test('respond() in onRequest skips the remaining onRequest hooks', async () => {
  const pipeline = new HookPipeline(() => undefined);
  let later = false;
  pipeline.use({ name: 'mock', onRequest: (flow) => flow.respond({ status: 201, body: 'mocked' }) });
  pipeline.use({
    name: 'later',
    onRequest: () => {
      later = true;
    },
  });
  const flow = makeFlow();
  await pipeline.request(flow);
  assert.equal(flow.response?.status, 201);
  assert.equal(flow.response?.synthetic, true);
  assert.equal(await flow.response?.text(), 'mocked');
  assert.equal(later, false);
});

test('a throw in onRequest becomes hook_failed naming the hook', async () => {
  const pipeline = new HookPipeline(() => undefined);
  pipeline.use({
    name: 'broken',
    onRequest: () => {
      throw new Error('boom');
    },
  });
  await assert.rejects(pipeline.request(makeFlow()), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'hook_failed');
    assert.equal(error.message, 'hook "broken" failed in onRequest: boom');
    return true;
  });
});

test('throws in observe-only phases are reported and later hooks still run', async () => {
  const faults: HookFault[] = [];
  const pipeline = new HookPipeline((fault) => faults.push(fault));
  let ran = false;
  pipeline.use({
    name: 'bad',
    onFlowEnd: () => {
      throw new Error('nope');
    },
  });
  pipeline.use({
    name: 'good',
    onFlowEnd: () => {
      ran = true;
    },
  });
  await pipeline.flowEnd(makeFlow());
  assert.deepEqual(faults, [{ hook: 'bad', phase: 'onFlowEnd', message: 'nope' }]);
  assert.equal(ran, true);
});

test('the first onConnect verdict wins; a bad verdict is a hook error', async () => {
  const pipeline = new HookPipeline(() => undefined);
  pipeline.use({ name: 'undecided', onConnect: () => undefined });
  pipeline.use({ name: 'tunneller', onConnect: (c) => (c.host === 'bank.test' ? 'tunnel' : undefined) });
  pipeline.use({ name: 'rejector', onConnect: () => 'reject' });
  const client = { address: '127.0.0.1', port: 1 };
  assert.deepEqual(await pipeline.connect({ host: 'bank.test', port: 443, client }), { verdict: 'tunnel', hook: 'tunneller' });
  assert.deepEqual(await pipeline.connect({ host: 'other.test', port: 443, client }), { verdict: 'reject', hook: 'rejector' });
  const strange = new HookPipeline(() => undefined);
  strange.use({ name: 'odd', onConnect: () => 'maybe' as never });
  await assert.rejects(strange.connect({ host: 'a.test', port: 443, client }), { code: 'hook_failed' });
});

test('hooks need a name', () => {
  assert.throws(() => new HookPipeline(() => undefined).use({} as Hook), { code: 'config_invalid' });
});

test('setting request.url re-targets and updates Host', () => {
  const flow = makeFlow();
  flow.request.url = 'http://b.test:8080/y?q=1';
  assert.equal(flow.request.retargeted, true);
  assert.equal(flow.request.headers.host, 'b.test:8080');
  assert.throws(
    () => {
      flow.request.url = 'ftp://x/';
    },
    { code: 'hook_failed' },
  );
});

test('changedBy names the hooks that changed the request or response, or answered, and no others', async () => {
  const pipeline = new HookPipeline(() => undefined);
  pipeline.use({ name: 'looker', onRequest: (flow) => void flow.request.headers.host });
  pipeline.use({
    name: 'header',
    onRequest: (flow) => {
      flow.request.headers['x-a'] = '1';
    },
  });
  pipeline.use({
    name: 'same-url',
    onRequest: (flow) => {
      // Setting the URL it already has is not a change.
      const url = flow.request.url;
      flow.request.url = url;
    },
  });
  pipeline.use({ name: 'answer', onRequest: (flow) => flow.respond({ status: 204 }) });
  pipeline.use({
    name: 'status',
    onResponse: (flow) => {
      if (flow.response) flow.response.status = 299;
    },
  });
  pipeline.use({ name: 'reader', onResponse: async (flow) => void (await flow.response?.text()) });
  pipeline.use({
    name: 'body',
    onResponse: (flow) => {
      if (flow.response) flow.response.body = 'new';
    },
  });
  const flow = makeFlow();
  await pipeline.request(flow);
  await pipeline.response(flow);
  assert.deepEqual([...flow.changedBy], ['header', 'answer', 'status', 'body']);
  assert.deepEqual(
    pipeline.list().map(({ name }) => name),
    ['looker', 'header', 'same-url', 'answer', 'status', 'reader', 'body'],
  );
});

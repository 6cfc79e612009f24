import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeldFlow, HeldRelease } from '../../src/events.js';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest } from '../../src/flow/flow.js';
import { parseProxyOptions } from '../../src/config/load.js';
import { Breakpoints } from '../../src/hooks/breakpoints.js';
import { HookPipeline } from '../../src/hooks/pipeline.js';
import type { Hook } from '../../src/hooks/types.js';
import { within } from '../helpers/deadline.js';

function makeFlow(id: number, url: string): Flow {
  const request = new FlowRequest({
    method: 'GET',
    url,
    rawHeaders: ['Host', new URL(url).host],
    httpVersion: '1.1',
    body: new Body(undefined, { cap: 1024, what: 'the request body' }),
  });
  return new Flow({ id, connectionId: 1, client: { address: '127.0.0.1', port: 1 }, request, start: Date.now() });
}

function setUp(timeoutMs = 60_000) {
  const pipeline = new HookPipeline(() => undefined);
  const held: HeldFlow[] = [];
  const released: HeldRelease[] = [];
  let heldOne: (hold: HeldFlow) => void = () => undefined;
  const firstHeld = new Promise<HeldFlow>((resolve) => {
    heldOne = resolve;
  });
  const breakpoints = new Breakpoints({
    timeoutMs,
    // A stand-in for the filter language: the filter text is a URL substring.
    compile: (text) => (flow) => flow.request.url.includes(text),
    install: (hook: Hook) => pipeline.use(hook),
    onHeld: (hold) => {
      held.push(hold);
      heldOne(hold);
    },
    onReleased: (release) => released.push(release),
  });
  return { pipeline, breakpoints, held, released, firstHeld };
}

test('the hook is installed with the first rule, and has a phase only while a rule wants it', () => {
  const { pipeline, breakpoints } = setUp();
  assert.deepEqual(pipeline.list(), []);
  const rule = breakpoints.add({ filter: '/x', on: 'response' });
  assert.deepEqual(
    pipeline.list().map((hook) => hook.name),
    ['breakpoints'],
  );
  assert.equal(pipeline.has('onRequest'), false, 'no request phase: CONNECTs still dial before answering');
  assert.equal(pipeline.has('onResponse'), true);
  breakpoints.add({ filter: '/y', on: 'both' });
  assert.equal(pipeline.has('onRequest'), true);
  breakpoints.clear();
  assert.equal(pipeline.has('onRequest'), false);
  assert.equal(pipeline.has('onResponse'), false);
  assert.equal(breakpoints.remove(rule), false);
  assert.throws(() => breakpoints.add({ filter: '', on: 'sideways' as 'both' }), { code: 'config_invalid' });
});

test('a held flow goes on at close(), unchanged; the timer is cleared', async () => {
  const { pipeline, breakpoints, held, released, firstHeld } = setUp();
  breakpoints.add({ filter: '/hold' });
  const flow = makeFlow(7, 'https://a.test/hold');
  const running = pipeline.request(flow);
  assert.equal((await within(firstHeld, 'the flow to be held')).flow, flow);
  breakpoints.close();
  await running;
  assert.equal(flow.request.url, 'https://a.test/hold');
  assert.deepEqual(released, [{ flowId: 7, phase: 'request', outcome: 'closed' }]);
  assert.throws(() => held[0]?.resume(), { code: 'breakpoint_not_held' });
  assert.deepEqual(breakpoints.held(), []);
});

test('a flow no rule matches is not held', async () => {
  const { pipeline, breakpoints, held } = setUp();
  breakpoints.add({ filter: '/hold' });
  await pipeline.request(makeFlow(8, 'https://a.test/free'));
  assert.equal(held.length, 0);
});

test('breakTimeout is checked: positive, at most a day (longer timers would fire at once)', () => {
  assert.throws(() => parseProxyOptions({ breakTimeout: 0 }), { code: 'config_invalid', message: /breakTimeout/ });
  assert.throws(() => parseProxyOptions({ breakTimeout: 2 ** 31 }), { code: 'config_invalid', message: /breakTimeout/ });
  assert.equal(parseProxyOptions({}).breakTimeout, 300_000);
});

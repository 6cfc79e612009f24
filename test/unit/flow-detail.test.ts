import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detailLines } from '../../src/cli/output/detail-text.js';
import { flowDetail, flowMarks } from '../../src/cli/output/flow-detail.js';
import { formatFlowJson, formatMarks } from '../../src/cli/output/flow-log.js';
import { ANSI, PLAIN, styleFor } from '../../src/cli/output/term-style.js';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest, syntheticResponse } from '../../src/flow/flow.js';
import { describeHooks } from '../../src/proxy/flag-hooks.js';

function answered(body: string, type: string): Flow {
  const request = new FlowRequest({
    method: 'POST',
    url: 'https://a.test/x',
    rawHeaders: ['Host', 'a.test', 'Content-Type', 'text/plain'],
    httpVersion: '1.1',
    body: new Body(undefined, { cap: 0, what: 'x', recordLimit: 100 }),
  });
  const flow = new Flow({ id: 3, connectionId: 1, client: { address: '127.0.0.1', port: 5 }, request, start: 1000 });
  flow.request.bodyStore.recordSent({ kind: 'bytes', data: Buffer.from('ping'), replaced: false });
  flow.response = syntheticResponse({ status: 200, headers: { 'content-type': type }, body }, 'r', 1000);
  flow.response.bodyStore.recordSent(flow.response.bodyStore.outgoing());
  return flow;
}

test('level 3 shows headers and bodies: JSON pretty-printed, long text cut, binary as size and type', () => {
  const json = flowDetail(answered('{"a":[1]}', 'application/json'), 3, 2048);
  assert.deepEqual(json.requestHeaders, [
    ['Host', 'a.test'],
    ['Content-Type', 'text/plain'],
  ]);
  assert.equal(json.responseBody?.text, '{\n  "a": [\n    1\n  ]\n}');
  assert.equal(json.requestBody?.text, 'ping');
  const long = flowDetail(answered('é'.repeat(20), 'text/plain'), 3, 5);
  assert.deepEqual([long.responseBody?.text, long.responseBody?.truncated], ['éé', true]);
  const binary = flowDetail(answered('\u0000\u0001\u0002', 'image/png'), 3, 2048);
  assert.equal(binary.responseBody?.binary, true);
  assert.deepEqual(detailLines(binary, PLAIN).at(-1), '    < (binary body, image/png, 3 B)');
  assert.equal(flowDetail(answered('x', 'text/plain'), 2, 10).responseBody, undefined);
});

test('marks: mock, blocked, modified by; json carries them and the detail as fields', () => {
  const flow = answered('x', 'text/plain');
  flow.tags.add('mocked');
  flow.changedBy.add('mock');
  flow.changedBy.add('add-auth');
  assert.deepEqual(flowMarks(flow), ['mock', 'modified by add-auth']);
  assert.equal(formatMarks(flowMarks(flow)), ' [mock] [modified by add-auth]');
  const replayed = answered('x', 'text/plain');
  replayed.tags.add('replayed');
  replayed.changedBy.add('replay');
  assert.deepEqual(flowMarks(replayed), ['replay'], 'the replay hook taking off its token is not a second mark');
  replayed.changedBy.add('add-auth');
  assert.deepEqual(flowMarks(replayed), ['replay', 'modified by add-auth']);
  const record = {
    id: 3,
    method: 'POST',
    url: 'https://a.test/x',
    status: 200,
    contentType: 'text/plain',
    responseBytes: 1,
    durationMs: 2,
    error: undefined,
    client: { address: '127.0.0.1', port: 5 },
    mode: 'regular',
  };
  const parsed = JSON.parse(formatFlowJson(record, flowDetail(flow, 2, 10))) as Record<string, unknown>;
  assert.deepEqual(parsed.marks, ['mock', 'modified by add-auth']);
  assert.deepEqual(parsed.responseHeaders, [['content-type', 'text/plain']]);
  assert.equal(JSON.parse(formatFlowJson(record)).marks, undefined);
});

test('colours only on a terminal without NO_COLOR', () => {
  assert.equal(styleFor({ isTTY: true }, {}), ANSI);
  assert.equal(styleFor({ isTTY: true }, { NO_COLOR: '1' }), PLAIN);
  assert.equal(styleFor({}, {}), PLAIN);
  assert.equal(styleFor({ isTTY: false }, {}), PLAIN);
});

test('the start-up hooks line groups repeats and names files', () => {
  const line = describeHooks([
    { name: 'set-header', source: 'setHeader' },
    { name: 'set-header', source: 'setHeader' },
    { name: 'map-remote', source: 'mapRemote' },
    { name: 'add-auth', source: './hooks/auth.ts' },
  ]);
  assert.equal(line, 'hooks: set-header ×2, map-remote, add-auth (./hooks/auth.ts)');
  assert.equal(describeHooks([]), undefined);
});

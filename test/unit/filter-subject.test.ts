import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { FlowRecord } from '../../src/events.js';
import { MitmError } from '../../src/errors.js';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest, FlowResponse } from '../../src/flow/flow.js';
import { compileFilter, subjectOfFlow, subjectOfRecord, urlParts } from '../../src/record/filter/filter.js';

const RECORD: FlowRecord = {
  id: 1,
  method: 'POST',
  url: 'https://API.Example.com:8443/v1/login?next=/home',
  status: 401,
  contentType: 'application/json',
  responseBytes: 2048,
  durationMs: 1200,
  error: undefined,
  client: { address: '127.0.0.1', port: 50000, user: 'qa' },
  mode: 'transparent',
};

/** A body read to its end and recorded up to `limit` bytes, as a sent one is. */
async function sentBody(data: Buffer | string, limit = 1024): Promise<Body> {
  const body = new Body(Readable.from([Buffer.from(data)]), { cap: 0, what: 'x', recordLimit: limit });
  await body.consume();
  return body;
}

test('urlParts: host without port or brackets, lower-case; path without query', () => {
  assert.deepEqual(urlParts('https://API.Example.com:8443/v1/x?y=1'), { host: 'api.example.com', path: '/v1/x' });
  assert.deepEqual(urlParts('http://[::1]:8080/'), { host: '::1', path: '/' });
  assert.deepEqual(urlParts('not a url'), { host: '', path: '' });
});

test('subjectOfRecord: what a flow event knows matches (its listener mode too); headers and bodies never do', () => {
  const s = subjectOfRecord(RECORD);
  for (const filter of [
    'login',
    'host:example.com',
    'path:/v1/login',
    'method:post',
    'status:4xx',
    'type:json',
    'size:2k',
    'duration:>1s',
    'user:qa',
    'mode:transparent',
    '-error:',
  ]) {
    assert.equal(compileFilter(filter)(s), true, filter);
  }
  for (const filter of ['header:content-type', 'res:token', 'req:password', 'mode:regular', 'type:ws']) {
    assert.equal(compileFilter(filter)(s), false, filter);
  }
  const failed = subjectOfRecord({ ...RECORD, status: 502, error: { code: 'upstream_tls', message: 'x' } });
  assert.equal(compileFilter('error:upstream_tls status:502')(failed), true);
  assert.equal(compileFilter('type:ws')(subjectOfRecord({ ...RECORD, status: 101, contentType: undefined })), true);
  assert.equal(compileFilter('type:sse')(subjectOfRecord({ ...RECORD, contentType: 'text/event-stream' })), true);
});

test('subjectOfFlow: wire headers, decoded recorded bodies, facts the flow lacks', async () => {
  const flow = new Flow({
    id: 1,
    connectionId: 1,
    client: { address: '127.0.0.1', port: 5000, user: 'alice' },
    start: 1000,
    request: new FlowRequest({
      method: 'POST',
      url: 'https://api.test/login',
      rawHeaders: ['Host', 'api.test', 'Content-Type', 'application/x-www-form-urlencoded'],
      httpVersion: '1.1',
      body: await sentBody('user=alice&password=hunter2'),
    }),
  });
  const json = gzipSync('{"token":"abc"}');
  flow.response = new FlowResponse({
    status: 200,
    rawHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'],
    httpVersion: '1.1',
    body: await sentBody(json),
    synthetic: false,
  });
  flow.timings.end = 1350;
  flow.response.headers['x-added'] = 'by-hook';
  const s = subjectOfFlow(flow, { mode: 'transparent' });
  const matching = [
    'req:hunter2',
    'res:"token"',
    'header:x-added=by-hook',
    'header:content-encoding=gzip',
    'duration:350',
    `size:=${json.length}`,
    'mode:transparent',
    'user:alice',
    'type:json',
  ];
  for (const filter of matching) assert.equal(compileFilter(filter)(s), true, filter);
  assert.equal(compileFilter('error:')(s), false);
  assert.equal(compileFilter('mode:regular')(subjectOfFlow(flow)), true, 'a flow without a listener mode came through a regular one');
  assert.equal(compileFilter('mode:transparent')(subjectOfFlow(flow)), false);

  flow.error = new MitmError('hook_failed', 'boom');
  assert.equal(compileFilter('error:hook_failed')(subjectOfFlow(flow)), true);
});

test('subjectOfFlow: a body cut at the record limit gives its size from Content-Length, and binary bodies are not searched', async () => {
  const flow = new Flow({
    id: 2,
    connectionId: 1,
    client: { address: '127.0.0.1', port: 5000 },
    start: 0,
    request: new FlowRequest({ method: 'GET', url: 'https://a.test/img', rawHeaders: [], httpVersion: '1.1', body: await sentBody('') }),
  });
  flow.response = new FlowResponse({
    status: 200,
    rawHeaders: ['Content-Type', 'image/png', 'Content-Length', '5000'],
    httpVersion: '1.1',
    body: await sentBody(Buffer.alloc(5000, 0x89), 100),
    synthetic: false,
  });
  const s = subjectOfFlow(flow);
  assert.equal(s.responseSize, 5000);
  assert.equal(s.responseBody?.(), undefined);
  assert.equal(s.durationMs, undefined, 'not ended yet');
  assert.equal(compileFilter('-user: -req:x')(s), true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getRawHeader, setRawHeader } from '../../src/flow/header-map.js';
import { stripHopByHop } from '../../src/exchange/headers.js';

test('hop-by-hop fields and those named by Connection are dropped; order, case and repeats kept', () => {
  const raw = [
    'Host',
    'a.test',
    'Connection',
    'keep-alive, X-Secret-Hop',
    'X-Secret-Hop',
    '1',
    'Set-Cookie',
    'a=1',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Authorization',
    'Basic Zm9vOmJhcg==',
    'Proxy-Connection',
    'keep-alive',
    'Transfer-Encoding',
    'chunked',
    'TE',
    'trailers',
    'Upgrade',
    'h2c',
    'set-cookie',
    'b=2',
    'X-Custom',
    'v',
  ];
  assert.deepEqual(stripHopByHop(raw), ['Host', 'a.test', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Custom', 'v']);
});

test('setRawHeader replaces every copy in place of the first, or appends', () => {
  assert.deepEqual(setRawHeader(['host', 'x', 'A', '1', 'HOST', 'y'], 'Host', 'z'), ['host', 'z', 'A', '1']);
  assert.deepEqual(setRawHeader(['A', '1'], 'Host', 'z'), ['A', '1', 'Host', 'z']);
});

test('getRawHeader is case-insensitive and returns the first value', () => {
  assert.equal(getRawHeader(['A', '1', 'content-type', 'text/html', 'Content-Type', 'x'], 'Content-Type'), 'text/html');
  assert.equal(getRawHeader(['A', '1'], 'b'), undefined);
});

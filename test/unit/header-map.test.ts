import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerMapFromRaw, toRawHeaders } from '../../src/flow/header-map.js';

const raw = ['Host', 'a.test', 'Set-Cookie', 'a=1', 'X-Trace', 't', 'set-cookie', 'b=2', 'Accept', '*/*'];

test('the map has lower-case names and arrays for repeated fields', () => {
  assert.deepEqual(headerMapFromRaw(raw), {
    host: 'a.test',
    'set-cookie': ['a=1', 'b=2'],
    'x-trace': 't',
    accept: '*/*',
  });
});

test('an untouched map gives back the raw list exactly', () => {
  assert.deepEqual(toRawHeaders(raw, headerMapFromRaw(raw)), raw);
});

test('changes land in place, deletions vanish, additions go last', () => {
  const map = headerMapFromRaw(raw);
  map['x-trace'] = 'changed';
  delete map.accept;
  map['set-cookie'] = ['c=3'];
  map['x-new'] = ['1', '2'];
  assert.deepEqual(toRawHeaders(raw, map), [
    'Host', 'a.test',
    'Set-Cookie', 'c=3',
    'X-Trace', 'changed',
    'x-new', '1',
    'x-new', '2',
  ]);
});

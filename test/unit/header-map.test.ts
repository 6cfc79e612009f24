import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Body } from '../../src/flow/body.js';
import { FlowRequest } from '../../src/flow/flow.js';
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
  assert.deepEqual(toRawHeaders(raw, map), ['Host', 'a.test', 'Set-Cookie', 'c=3', 'X-Trace', 'changed', 'x-new', '1', 'x-new', '2']);
});

test("a message's wire headers follow its map once a hook touches it, and its raw list until then", () => {
  const message = () =>
    new FlowRequest({
      method: 'GET',
      url: 'https://a.test/',
      rawHeaders: raw,
      httpVersion: '1.1',
      body: new Body(undefined, { cap: 0, what: 'x' }),
    });
  const untouched = message();
  assert.equal(untouched.header('set-cookie'), 'a=1');
  assert.deepEqual(untouched.headerValues('set-cookie'), ['a=1', 'b=2'], 'every value, any case, from the raw list');
  assert.deepEqual(untouched.headerValues('x-missing'), []);
  assert.deepEqual(untouched.wireHeaders(), raw);
  assert.notEqual(untouched.wireHeaders(), raw, 'a copy: framing may change it');
  const json = JSON.parse(JSON.stringify(untouched)) as { method: string; headers: unknown };
  assert.equal(json.method, 'GET');
  assert.deepEqual(json.headers, headerMapFromRaw(raw), 'JSON output still shows the headers');

  const changed = message();
  changed.headers['x-trace'] = 'changed';
  delete changed.headers['set-cookie'];
  assert.equal(changed.header('x-trace'), 'changed');
  assert.equal(changed.header('set-cookie'), undefined);
  assert.deepEqual(changed.headerValues('set-cookie'), []);
  assert.deepEqual(changed.headerValues('x-trace'), ['changed']);
  assert.deepEqual(changed.wireHeaders(), ['Host', 'a.test', 'X-Trace', 'changed', 'Accept', '*/*']);

  const replaced = message();
  replaced.headers = { host: 'b.test' };
  assert.deepEqual(replaced.wireHeaders(), ['Host', 'b.test']);
});

// Property tests of header maps (issue #16): raw list → map → raw list keeps every field a hook
// left alone, byte for byte and in place; changes, deletions and additions land as documented.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { getRawHeader, headerMapFromRaw, setRawHeader, toRawHeaders, valuesOf, withoutRawHeader } from '../../src/flow/header-map.js';

const RUNS = { numRuns: 500 };

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
// A few names repeat often, in different spellings, so repeated fields are common.
const name = fc.oneof(
  token,
  fc.constantFrom('Set-Cookie', 'set-cookie', 'SET-COOKIE', 'Host', 'content-type', 'X-A', 'x-a', '__proto__', 'constructor'),
);
const value = fc.string({ maxLength: 20 });
const raw = fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => pairs.flat());

test('an untouched map writes back the original raw list', () => {
  fc.assert(
    fc.property(raw, (list) => {
      assert.deepEqual(toRawHeaders(list, headerMapFromRaw(list)), list);
    }),
    RUNS,
  );
});

test('the map holds every value, in order, under its lower-case name', () => {
  fc.assert(
    fc.property(raw, (list) => {
      const map = headerMapFromRaw(list);
      const total = Object.values(map).reduce((n, v) => n + valuesOf(v).length, 0);
      assert.equal(total, list.length / 2);
      for (const key of Object.keys(map)) assert.equal(key, key.toLowerCase());
    }),
    RUNS,
  );
});

test('set, delete and add: the result maps back to exactly the changed map', () => {
  fc.assert(
    fc.property(raw, name, value, fc.nat(), (list, added, addedValue, pick) => {
      const map = headerMapFromRaw(list);
      const keys = Object.keys(map);
      const changed = keys[pick % Math.max(keys.length, 1)];
      const deleted = keys[(pick + 1) % Math.max(keys.length, 1)];
      if (changed !== undefined) map[changed] = 'changed';
      if (deleted !== undefined && deleted !== changed) delete map[deleted];
      map[added.toLowerCase()] = addedValue;
      const out = toRawHeaders(list, map);
      assert.deepEqual(headerMapFromRaw(out), map);
    }),
    RUNS,
  );
});

test('setRawHeader / getRawHeader / withoutRawHeader agree', () => {
  fc.assert(
    fc.property(raw, name, value, (list, field, text) => {
      const set = setRawHeader([...list], field, text);
      assert.equal(getRawHeader(set, field.toUpperCase()), text);
      assert.equal(getRawHeader(withoutRawHeader(set, field), field), undefined);
      assert.equal(withoutRawHeader(set, field).length % 2, 0);
    }),
    RUNS,
  );
});

test('regression: fields called constructor and __proto__ are ordinary headers', () => {
  const list = ['Constructor', 'a', '__proto__', 'b', '__proto__', 'c', 'toString', 'd'];
  const map = headerMapFromRaw(list);
  assert.deepEqual(map.constructor, 'a');
  assert.deepEqual(Object.getOwnPropertyDescriptor(map, '__proto__')?.value, ['b', 'c']);
  assert.equal(Object.getPrototypeOf(map), Object.prototype);
  assert.deepEqual(toRawHeaders(list, map), list);
});

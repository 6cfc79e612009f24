import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillCaptures, urlMatcher } from '../../src/hooks/url-pattern.js';
import { contains, matchesBody, matchesHeaders } from '../../src/hooks/mock-match.js';

test('a URL glob matches the whole URL, query included; * spans slashes; ? is literal', () => {
  const users = urlMatcher('https://api.test/users');
  assert.equal(users.test('https://api.test/users'), true);
  assert.equal(users.test('https://api.test/users?page=2'), false);
  assert.equal(users.test('https://api.test/users/1'), false);
  assert.equal(urlMatcher('https://api.test/users*').test('https://api.test/users?page=2'), true);
  assert.equal(urlMatcher('https://api.test/*').test('https://api.test/a/b/c?d=e'), true);
  assert.equal(urlMatcher('https://api.test/a?b=1').test('https://api.test/aXb=1'), false, '? is not a wildcard');
  assert.equal(urlMatcher('https://api.test/a.json').test('https://api.test/aXjson'), false, '. is literal');
  assert.equal(urlMatcher('*://*.example.com/*').test('http://cdn.example.com/x'), true);
});

test('scheme and host compare case-insensitively, the path exactly', () => {
  const matcher = urlMatcher('HTTPS://API.Test/Users');
  assert.equal(matcher.test('https://api.test/Users'), true);
  assert.equal(matcher.test('https://api.test/users'), false);
});

test('captures fill the stars of a template in order', () => {
  const matcher = urlMatcher('https://*.prod.test/v1/*');
  const captures = matcher.match('https://api.prod.test/v1/users?x=1');
  assert.deepEqual(captures, ['api', 'users?x=1']);
  assert.equal(fillCaptures('http://127.0.0.1:9000/*/*', captures ?? []), 'http://127.0.0.1:9000/api/users?x=1');
});

test('a RegExp pattern is tested from the start every time, even with /g', () => {
  const matcher = urlMatcher(/^https:\/\/api\.test\/(\d+)$/g);
  assert.deepEqual(matcher.match('https://api.test/42'), ['42']);
  assert.deepEqual(matcher.match('https://api.test/42'), ['42']);
  assert.equal(matcher.test('https://api.test/x'), false);
});

test('partial JSON matching: extra keys allowed at any depth, arrays compared whole', () => {
  assert.equal(contains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }), true);
  assert.equal(contains({ a: 1 }, { a: '1' }), false);
  assert.equal(contains({ a: [1, 2] }, { a: [1] }), false);
  assert.equal(contains({ a: [{ x: 1, y: 2 }] }, { a: [{ x: 1 }] }), true);
  assert.equal(contains({ a: null }, { a: null }), true);
  assert.equal(contains([1], { 0: 1 }), false);
  assert.equal(matchesBody('{"name":"x","n":1}', { name: 'x' }), true);
  assert.equal(matchesBody('not json', { name: 'x' }), false);
  assert.equal(matchesBody('exact', 'exact'), true);
  assert.equal(matchesBody('exact ', 'exact'), false);
  assert.equal(matchesBody('token=abc', /token=\w+/), true);
  assert.equal(matchesBody(undefined, /./), false);
});

test('header conditions: names case-insensitive, repeated values joined, RegExp allowed', () => {
  const headers = { 'x-k': 'v', accept: ['a', 'b'] };
  assert.equal(matchesHeaders(headers, { 'X-K': 'v' }), true);
  assert.equal(matchesHeaders(headers, { 'x-k': 'V' }), false);
  assert.equal(matchesHeaders(headers, { accept: 'a, b' }), true);
  assert.equal(matchesHeaders(headers, { accept: /b$/ }), true);
  assert.equal(matchesHeaders(headers, { missing: /.*/ }), false);
});

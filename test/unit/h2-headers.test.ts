import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsTrailers, h2FromRaw, h2RequestHeaders, rawFromH2, withoutPseudoHeaders } from '../../src/flow/h2-headers.js';

test('an HTTP/2 block loses its pseudo-headers; cookie crumbs join in place of the first', () => {
  const raw = [':method', 'GET', ':path', '/x', 'cookie', 'a=1', 'accept', '*/*', ':authority', 'h.test', 'cookie', 'b=2', 'cookie', 'c=3'];
  assert.deepEqual(rawFromH2(raw), ['cookie', 'a=1; b=2; c=3', 'accept', '*/*']);
});

test('a response block as Node lists it keeps its fields in order, repeats and cookies apart, pseudo-headers left out', () => {
  const raw = [':status', '200', 'set-cookie', 'a=1', 'cookie', 'x=1', 'content-length', '5', 'set-cookie', 'b=2', 'cookie', 'y=2'];
  assert.deepEqual(withoutPseudoHeaders(raw), [
    'set-cookie',
    'a=1',
    'cookie',
    'x=1',
    'content-length',
    '5',
    'set-cookie',
    'b=2',
    'cookie',
    'y=2',
  ]);
});

test('towards HTTP/2: lower-case names, arrays for repeats, no connection-specific fields, first of single-value fields', () => {
  const raw = [
    'Host',
    'h.test',
    'Connection',
    'keep-alive',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Connection',
    'x',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'h2c',
    'TE',
    'trailers',
    'Set-Cookie',
    'a=1',
    'set-cookie',
    'b=2',
    'Content-Type',
    'text/plain',
    'Content-Type',
    'text/html',
    'X-Custom',
    'v',
  ];
  assert.deepEqual(h2FromRaw(raw), { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain', 'x-custom': 'v' });
  assert.deepEqual(h2FromRaw(['TE', 'gzip'], true), { te: 'trailers' }, 'te survives only as "trailers"');
});

test('an HTTP/2 request block takes :authority from Host and puts the pseudo-headers first', () => {
  const headers = h2RequestHeaders('POST', '/a?b', ['Host', 'h.test:8443', 'Content-Length', '3'], false);
  assert.deepEqual(Object.keys(headers), [':method', ':scheme', ':authority', ':path', 'content-length']);
  assert.equal(headers[':authority'], 'h.test:8443');
  assert.equal(headers[':scheme'], 'https');
});

test('acceptsTrailers reads the TE list, case and parameters aside', () => {
  assert.equal(acceptsTrailers(['TE', 'deflate, Trailers']), true);
  assert.equal(acceptsTrailers(['te', 'trailers;q=1']), true);
  assert.equal(acceptsTrailers(['te', 'gzip', 'X-Trailers', 'trailers']), false);
  assert.equal(acceptsTrailers([]), false);
});

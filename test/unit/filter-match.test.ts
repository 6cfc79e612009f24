import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, type FilterSubject } from '../../src/record/filter/filter.js';

const BASE: FilterSubject = {
  method: 'GET',
  url: 'https://api.example.com/v1/users/42?expand=Teams',
  host: 'api.example.com',
  path: '/v1/users/42',
  status: 200,
  contentType: 'application/json; charset=utf-8',
  requestHeaders: ['Host', 'api.example.com', 'User-Agent', 'curl/8.5.0', 'Accept', '*/*'],
  responseHeaders: ['Content-Type', 'application/json; charset=utf-8', 'X-Request-Id', 'abc123'],
  requestBody: () => undefined,
  responseBody: () => '{"name":"Ada Lovelace"}',
  responseSize: 150 * 1024,
  durationMs: 750,
  errorCode: undefined,
  mode: 'regular',
  user: 'alice',
  isWebSocket: false,
  isSse: false,
};

function subject(overrides: Partial<FilterSubject> = {}): FilterSubject {
  return { ...BASE, ...overrides };
}

/** Asserts which filters match `s` and which do not. */
function check(s: FilterSubject, matching: readonly string[], failing: readonly string[]): void {
  for (const filter of matching) assert.equal(compileFilter(filter)(s), true, `${filter} should match`);
  for (const filter of failing) assert.equal(compileFilter(filter)(s), false, `${filter} should not match`);
}

test('the empty filter matches everything', () => {
  check(subject(), ['', '   '], []);
});

test('free text: case-insensitive substring of the URL, query included', () => {
  check(subject(), ['users', 'USERS/42', 'expand=teams', '"v1/users"', 'api.example'], ['ada', 'posts', '"users 42"']);
});

test('host: plain names cover subdomains, globs are anchored', () => {
  check(
    subject(),
    ['host:api.example.com', 'host:example.com', 'host:EXAMPLE.COM', 'host:*.example.com', 'host:api.*', 'host:a?i.example.com'],
    ['host:xample.com', 'host:api', 'host:*.example.org', 'host:other.api.example.com'],
  );
  check(subject({ host: 'example.com' }), ['host:example.com'], ['host:*.example.com']);
});

test('path: substring without wildcards, anchored glob with them; the query is not part of it', () => {
  check(
    subject(),
    ['path:/users', 'path:users/4', 'path:/v1', 'path:/v1/*', 'path:*/42', 'path:/V1/USERS/*'],
    ['path:expand', 'path:/v2/*', 'path:/users/*', 'path:*/4'],
  );
});

test('method: whole name, any case', () => {
  check(subject(), ['method:GET', 'method:get', 'method:G*'], ['method:POST', 'method:GE']);
});

test('status: code, class, comparisons; no response matches nothing (its negation matches)', () => {
  check(
    subject({ status: 404 }),
    ['status:404', 'status:4xx', 'status:>=400', 'status:<500', 'status:>403', 'status:<=404'],
    ['status:200', 'status:5xx', 'status:<300', 'status:>404'],
  );
  check(subject({ status: undefined }), ['-status:404', '-status:>=100'], ['status:404', 'status:2xx', 'status:<600']);
});

test('type: short names and MIME types, parameters ignored', () => {
  check(
    subject(),
    ['type:json', 'type:application/json', 'type:APPLICATION/*'],
    ['type:html', 'type:xml', 'type:text/json', 'type:ws', 'type:sse'],
  );
  const types: readonly (readonly [string, string])[] = [
    ['application/problem+json', 'json'],
    ['text/html; charset=utf-8', 'html'],
    ['application/xhtml+xml', 'html'],
    ['text/xml', 'xml'],
    ['application/atom+xml', 'xml'],
    ['image/png', 'image'],
    ['image/svg+xml', 'image'],
    ['text/javascript', 'js'],
    ['application/javascript', 'js'],
    ['application/x-javascript', 'js'],
    ['text/css', 'css'],
    ['font/woff2', 'font'],
    ['application/font-woff', 'font'],
    ['text/event-stream', 'sse'],
  ];
  for (const [contentType, alias] of types) check(subject({ contentType }), [`type:${alias}`], []);
  check(
    subject({ contentType: 'text/plain' }),
    ['type:text/plain'],
    ['type:json', 'type:html', 'type:image', 'type:js', 'type:css', 'type:font'],
  );
  check(subject({ contentType: undefined, isWebSocket: true, status: 101 }), ['type:ws'], ['type:json', 'type:sse', 'type:*/*']);
  check(subject({ contentType: undefined, isSse: true }), ['type:sse'], ['type:ws']);
});

test('header: presence in request or response, value substring or glob', () => {
  check(
    subject(),
    ['header:user-agent', 'header:X-REQUEST-ID', 'header:user-agent=curl', 'header:user-agent=CURL/8*', 'header:x-request-id=abc'],
    ['header:cookie', 'header:user-agent=wget', 'header:user-agent=8.5*', 'header:accept=json'],
  );
  check(subject({ requestHeaders: undefined, responseHeaders: undefined }), ['-header:host'], ['header:host']);
  check(subject({ requestHeaders: ['X-Empty', ''] }), ['header:x-empty', 'header:x-empty='], ['header:x-empty=a']);
});

test('req: and res: search the decoded bodies; an absent body matches nothing', () => {
  check(subject(), ['res:lovelace', 'res:"Ada Lovelace"', '-req:anything'], ['req:ada', 'res:babbage']);
  check(subject({ requestBody: () => 'token=xyz', responseBody: undefined }), ['req:TOKEN'], ['res:ada']);
});

test('bodies are read only when the cheaper terms of an AND allow a match', () => {
  let reads = 0;
  const lazy = subject({
    responseBody: () => {
      reads++;
      return 'hello';
    },
  });
  assert.equal(compileFilter('res:hello status:500')(lazy), false);
  assert.equal(compileFilter('res:hello OR status:200')(lazy), true);
  assert.equal(reads, 0);
  assert.equal(compileFilter('res:hello status:200')(lazy), true);
  assert.equal(reads, 1);
});

test('size: response bytes, 1024-based; duration in ms', () => {
  check(subject(), ['size:>100k', 'size:<1m', 'size:150k', 'size:=153600', 'size:<=150KiB'], ['size:>150k', 'size:>1m', 'size:=0']);
  check(subject(), ['duration:>500ms', 'duration:<1s', 'duration:750', 'duration:=750ms'], ['duration:>1s', 'duration:<0.5s']);
  check(subject({ responseSize: undefined, durationMs: undefined }), [], ['size:>=0', 'duration:>=0']);
});

test('error: any error, or one code (globs allowed)', () => {
  check(subject(), ['-error:'], ['error:', 'error:upstream_tls']);
  check(
    subject({ errorCode: 'upstream_tls', status: 502 }),
    ['error:', 'error:upstream_tls', 'error:UPSTREAM_TLS', 'error:upstream_*'],
    ['error:upstream_timeout', 'error:aborted'],
  );
});

test('mode: and user:', () => {
  check(
    subject(),
    ['mode:regular', 'mode:REG*', 'user:', 'user:alice', 'user:ALICE', 'user:a*'],
    ['mode:transparent', 'user:bob', 'user:ali'],
  );
  check(subject({ mode: undefined, user: undefined }), ['-mode:regular', '-user:'], ['mode:regular', 'user:', 'user:alice']);
});

test('sni: the whole name, case-insensitive, wildcards allowed; no TLS never matches', () => {
  check(
    subject({ sni: 'api.example.com' }),
    ['sni:api.example.com', 'sni:API.example.com', 'sni:*.example.com'],
    ['sni:example.com', 'sni:api'],
  );
  check(subject({ sni: undefined }), ['-sni:*'], ['sni:*', 'sni:api.example.com']);
});

test('combinations: AND, OR, negation, groups', () => {
  const s = subject({ status: 503, errorCode: undefined });
  check(
    s,
    [
      'host:example.com status:5xx',
      'status:404 OR status:503',
      '-(status:2xx OR status:3xx)',
      'method:POST OR host:example.com status:5xx',
      '(method:POST OR method:GET) -type:html',
    ],
    ['host:example.com status:2xx', '(method:POST OR host:example.com) status:2xx', '-host:example.com', '--status:200'],
  );
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataRule } from '../../src/hooks/mock-data.js';
import { mockServer } from '../../src/hooks/mock-server.js';
import { urlTemplate } from '../../src/hooks/url-template.js';
import { exportMocks } from '../../src/record/mocks/export-mocks.js';
import { mergeTypes, renderType, typeOf } from '../../src/record/mocks/infer-type.js';
import { openStore } from '../../src/record/store/open-store.js';
import type { StoredFlow } from '../../src/record/store/types.js';
import { makeFlow, tempDir, type FlowSpec } from '../helpers/store-flows.js';
import { looksLikeId, pathTemplates } from '../../src/record/mocks/path-template.js';
import { Redactor } from '../../src/record/mocks/redact.js';

function templates(paths: ReadonlyArray<string | readonly [path: string, signature: string]>, group = 'GET http://api.test'): string[] {
  return pathTemplates(
    paths.map((entry) => {
      const [path, signature] = typeof entry === 'string' ? [entry, 'application/json {}'] : entry;
      return { group, segments: path.slice(1).split('/'), signature };
    }),
  );
}

function inferred(...values: unknown[]): string {
  const [first, ...rest] = values.map(typeOf);
  assert.ok(first);
  return renderType(rest.reduce(mergeTypes, first));
}

describe('path templates', () => {
  it('ids by their looks: digits, UUIDs, hex ids with a digit, redacted values; not words', () => {
    for (const id of ['1', '42', '5f2b9c1e', '507f1f77bcf86cd799439011', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', '<redacted:token:1>']) {
      assert.equal(looksLikeId(id), true, id);
    }
    for (const word of ['users', 'me', 'deadbeef', 'v1', 'abc123', 'index.html']) assert.equal(looksLikeId(word), false, word);
  });

  it('an id segment is a parameter even when seen once; a lone id is :id', () => {
    assert.deepEqual(templates(['/users/1', '/users/2', '/users']), ['/users/:id', '/users/:id', '/users']);
    assert.deepEqual(templates(['/orders/507f1f77bcf86cd799439011']), ['/orders/:id']);
  });

  it('several parameters are named after the segment before them, singular', () => {
    assert.deepEqual(templates(['/users/1/posts/7', '/categories/9/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301']), [
      '/users/:userId/posts/:postId',
      '/categories/:categoryId/items/:itemId',
    ]);
  });

  it('a word segment that alone differs between same-shaped answers becomes a parameter', () => {
    assert.deepEqual(templates(['/users/alice', '/users/bob']), ['/users/:user', '/users/:user']);
    // The same position, but the answers differ in shape: two endpoints.
    assert.deepEqual(
      templates([
        ['/api/users', 'application/json { id: number }[]'],
        ['/api/orders', 'application/json { total: number }[]'],
      ]),
      ['/api/users', '/api/orders'],
    );
  });

  it('a word next to ids stays literal; other methods and origins are not compared', () => {
    assert.deepEqual(templates(['/users/1', '/users/me']), ['/users/:id', '/users/me']);
    const mixed = pathTemplates([
      { group: 'GET http://a.test', segments: ['files', 'x'], signature: 's' },
      { group: 'POST http://a.test', segments: ['files', 'y'], signature: 's' },
    ]);
    assert.deepEqual(mixed, ['/files/x', '/files/y']);
  });

  it('merging one position can make another comparable (repeated until stable)', () => {
    assert.deepEqual(templates(['/a/x/one', '/a/y/one', '/a/x/two', '/a/y/two']), Array(4).fill('/a/:a/:param'));
    assert.deepEqual(templates(['/a/x/one', '/a/y/one', '/a/x/two']), ['/a/:a/one', '/a/:a/one', '/a/x/two']);
  });
});

describe('response types', () => {
  it('primitives, arrays, nested objects, quoted keys', () => {
    assert.equal(inferred('x'), 'string');
    assert.equal(inferred([1, 2]), 'number[]');
    assert.equal(inferred([]), 'unknown[]');
    assert.equal(inferred({ a: { 'b-c': true } }), '{\n  a: {\n    "b-c": boolean;\n  };\n}');
    assert.equal(inferred({}), 'Record<string, never>');
  });

  it('fields missing from some recordings are optional; differing primitives are unions, null last', () => {
    assert.equal(
      inferred({ id: 1, name: 'a', email: 'x' }, { id: 2, name: null }),
      '{\n  id: number;\n  name: string | null;\n  email?: string;\n}',
    );
    assert.equal(inferred(null, 1), 'number | null');
  });

  it('objects with no key in common stay apart in a union; arrays merge their elements', () => {
    assert.equal(inferred({ id: 1 }, { error: 'gone' }), '{\n  id: number;\n} | {\n  error: string;\n}');
    assert.equal(inferred([], ['a'], [1]), 'Array<string | number>');
    assert.equal(inferred([{ a: 1 }, { a: 2, b: 'x' }]), '{\n  a: number;\n  b?: string;\n}[]');
  });
});

describe('redaction', () => {
  it('a stable placeholder per value, numbered per name; counts by name', () => {
    const redactor = new Redactor();
    assert.equal(redactor.header('Authorization', 'Bearer tok-123'), '<redacted:authorization:1>');
    assert.equal(redactor.header('x-api-key', 'k1'), '<redacted:x-api-key:1>');
    assert.equal(redactor.header('accept', 'text/html'), 'text/html');
    assert.equal(redactor.params('page=2&access_token=abc%20def'), 'page=2&access_token=<redacted:access_token:1>');
    assert.deepEqual(redactor.json({ user: { name: 'n', password: 'hunter22' }, auth: { a: ['p1', 2] } }), {
      user: { name: 'n', password: '<redacted:password:1>' },
      auth: { a: ['<redacted:auth:1>', '<redacted:auth:2>'] },
    });
    assert.equal(redactor.secret('other', 'hunter22'), '<redacted:password:1>', 'the same value keeps its placeholder');
    redactor.stopCounting();
    redactor.secret('password', 'hunter22');
    assert.deepEqual(redactor.report().byName, [
      ['auth', 2],
      ['authorization', 2],
      ['access_token', 1],
      ['other', 1],
      ['password', 1],
      ['x-api-key', 1],
    ]);
  });

  it('every other occurrence is replaced: raw, URL-encoded, JSON-escaped; short values only by name', () => {
    const redactor = new Redactor();
    redactor.header('cookie', 'sid=s3cr3t value; theme=dark');
    redactor.header('authorization', 'Basic dXNlcjpwYXNzd29yZDE=');
    redactor.json({ session: 'a"b\\c-long' });
    redactor.json({ token: 'short' });
    assert.equal(redactor.scrub('you sent s3cr3t value'), 'you sent <redacted:sid:1>');
    assert.equal(redactor.scrub('q=s3cr3t%20value&r=s3cr3t+value'), 'q=<redacted:sid:1>&r=<redacted:sid:1>');
    assert.equal(redactor.scrub('{"s":"a\\"b\\\\c-long"}'), '{"s":"<redacted:session:1>"}');
    assert.equal(redactor.scrub('password1 and dXNlcjpwYXNzd29yZDE='), '<redacted:authorization:4> and <redacted:authorization:2>');
    assert.equal(redactor.scrub('short is short'), 'short is short');
    assert.equal(redactor.report().echoes, 6);
  });

  it('--redact patterns add names', () => {
    const redactor = new Redactor([/^x-tenant$/i]);
    assert.equal(redactor.isSecretName('X-Tenant'), true);
    assert.equal(redactor.isSecretName('x-tenant-name'), false);
    assert.equal(redactor.isSecretName('my_passwd'), true);
  });
});

describe('URL templates and data rules', () => {
  it('a :name segment matches one segment; the query is ignored; the origin compares case-insensitively', () => {
    const template = urlTemplate('http://API.test:8080/users/:id/posts/:post');
    assert.deepEqual(template.match('http://api.test:8080/users/7/posts/x?full=1'), { id: '7', post: 'x' });
    assert.equal(template.match('http://api.test:8080/users/7/posts'), undefined);
    assert.equal(template.match('http://api.test:8080/users/7/8/posts/x'), undefined);
    assert.equal(template.match('https://api.test:8080/users/7/posts/x'), undefined);
    assert.deepEqual(urlTemplate('http://a.test').match('http://a.test/'), {});
    assert.deepEqual(urlTemplate('http://a.test/a.b').match('http://a.test/aXb'), undefined, '. is literal');
  });

  it('a data rule answers with the answer for the path and query, else the last for the path, else the last', async () => {
    const rule = new DataRule(
      {
        method: 'get',
        url: 'https://api.test/items/:id',
        answers: [
          { path: '/items/1?v=a', status: 200, json: { v: 'a' } },
          { path: '/items/1?v=b', status: 200, text: 'b', headers: { 'Content-Type': 'text/plain' } },
          { path: '/items/2', status: 404, base64: Buffer.from('gone').toString('base64'), headers: { 'x-many': ['1', '2'] } },
        ],
      },
      'rules[0]',
    );
    const answer = async (url: string, method = 'GET'): Promise<string | undefined> => {
      const flow = makeFlow({ id: 1, method, url, noResponse: true });
      if (!(await rule.matches(flow))) return undefined;
      rule.answer(flow);
      const { response } = flow;
      return `${response?.status} ${response?.headers['content-type'] ?? '-'} ${await response?.text()}`;
    };
    assert.equal(await answer('https://api.test/items/1?v=a'), '200 application/json {"v":"a"}');
    assert.equal(await answer('https://api.test/items/1?v=b'), '200 text/plain b');
    assert.equal(await answer('https://api.test/items/1?v=zzz'), '200 text/plain b', 'the last one for the path');
    assert.equal(await answer('https://api.test/items/7'), '404 - gone', 'the last answer');
    assert.equal(await answer('https://api.test/items/7', 'POST'), undefined);
    assert.equal(await answer('https://api.test/items'), undefined);
    assert.equal(rule.description, 'GET https://api.test/items/:id');
    assert.equal(rule.pending, false);
  });

  it('bad rules are refused naming the rule and the field', () => {
    const bad = (rules: unknown, message: RegExp): void => {
      assert.throws(
        () => mockServer({ rules: rules as never }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'config_invalid');
          assert.match(error.message, message);
          return true;
        },
      );
    };
    bad([{ url: '/users/:id', answers: [{ status: 200 }] }], /rules\[0\]\.url: "\/users\/:id" is not an absolute URL/);
    bad([{ url: 'http://a.test/:x/:x', answers: [{ status: 200 }] }], /rules\[0\]\.url: .* names the parameter :x twice/);
    bad([{ url: 'http://a.test/', answers: [] }], /rules\[0\]\.answers: expected a non-empty array/);
    bad(
      [
        { url: 'http://a.test/', answers: [{ status: 200 }] },
        { url: 'http://a.test/', answers: [{ status: 42 }] },
      ],
      /rules\[1\]\.answers\[0\]\.status: expected 100–599, got 42/,
    );
    bad([{ url: 'http://a.test/', answers: [{ status: 200, json: {}, text: 'x' }] }], /rules\[0\]\.answers\[0\]: has json and text/);
    bad('nope', /rules: expected an array/);
  });
});

async function stored(specs: readonly FlowSpec[]): Promise<StoredFlow[]> {
  const temp = await tempDir('mitm-mock-export-');
  const store = await openStore(`${temp.dir}/s.db`);
  try {
    for (const spec of specs) store.append(makeFlow(spec));
    return store.query();
  } finally {
    await store.close();
    await temp.remove();
  }
}

const JSON_TYPE = ['Content-Type', 'application/json'];

describe('exportMocks', () => {
  it('one answer per recorded path (the last), literal paths first, transfer headers dropped, unusable flows counted', async () => {
    const flows = await stored([
      { id: 1, url: 'https://api.test/users/1', responseHeaders: [...JSON_TYPE, 'Date', 'x'], responseBody: '{"v":1}' },
      { id: 2, url: 'https://api.test/users/1', responseHeaders: JSON_TYPE, responseBody: '{"v":2}' },
      { id: 3, url: 'https://api.test/users/2', responseHeaders: JSON_TYPE, responseBody: '{"v":3,"x":true}' },
      { id: 4, url: 'https://api.test/users/me', responseHeaders: JSON_TYPE, responseBody: '{"me":true}' },
      { id: 5, url: 'https://api.test/img', responseHeaders: ['Content-Type', 'image/png'], responseBody: Buffer.from([0, 1, 2]) },
      { id: 6, url: 'https://api.test/down', noResponse: true },
      { id: 7, url: 'https://api.test/big', responseBody: 'x'.repeat(100), recordLimit: 10 },
    ]);
    const result = exportMocks(() => flows);
    assert.deepEqual(
      result.endpoints.map((endpoint) => `${endpoint.name} ${endpoint.url}`),
      ['getUsersMe https://api.test/users/me', 'getImg https://api.test/img', 'getUsersById https://api.test/users/:id'],
    );
    const users = result.endpoints[2];
    assert.deepEqual(
      users?.answers.map((answer) => [answer.path, answer.json]),
      [
        ['/users/1', { v: 2 }],
        ['/users/2', { v: 3, x: true }],
      ],
    );
    assert.deepEqual(users?.answers[0]?.headers, { 'content-type': 'application/json' });
    assert.equal(users?.recordings, 3);
    assert.equal(renderType(users?.type ?? typeOf(null)), '{\n  v: number;\n  x?: boolean;\n}');
    assert.equal(result.endpoints[1]?.answers[0]?.base64, 'AAEC');
    assert.equal(result.endpoints[1]?.typeName, undefined, 'no type without a JSON answer');
    assert.deepEqual(result.skipped, [
      ['no response', 1],
      ['response body cut', 1],
    ]);
  });

  it('secrets from the request (even a body without a Content-Type) are replaced in the exported URL, headers and body', async () => {
    const [flow] = await stored([
      {
        id: 1,
        method: 'POST',
        url: 'https://api.test/echo?apikey=k-1234567&x=1',
        requestHeaders: ['Authorization', 'Bearer tok-abcdef'],
        requestBody: '{"password":"pw-secret-1"}',
        responseHeaders: [...JSON_TYPE, 'X-Echo', 'Bearer tok-abcdef', 'Location', '/cb?a=1#access_token=implicit-999&b=2'],
        responseBody: JSON.stringify({ got: 'pw-secret-1 k-1234567', auth: 'tok-abcdef', list: ['tok-abcdef'] }),
      },
    ]);
    const result = exportMocks(() => [flow as StoredFlow], [/^x$/]);
    const text = JSON.stringify(result.endpoints);
    for (const secret of ['k-1234567', 'tok-abcdef', 'pw-secret-1']) assert.equal(text.includes(secret), false, secret);
    const answer = result.endpoints[0]?.answers[0];
    assert.equal(answer?.path, '/echo?apikey=<redacted:apikey:1>&x=<redacted:x:1>');
    assert.deepEqual(answer?.headers['x-echo'], '<redacted:authorization:1>');
    assert.deepEqual(answer?.headers.location, '/cb?a=1#access_token=<redacted:access_token:1>&b=2');
    assert.deepEqual(answer?.json, {
      got: '<redacted:password:1> <redacted:apikey:1>',
      auth: '<redacted:authorization:2>',
      list: ['<redacted:authorization:2>'],
    });
    assert.deepEqual(result.redactions.byName, [
      ['authorization', 2],
      ['access_token', 1],
      ['apikey', 1],
      ['auth', 1],
      ['password', 1],
      ['x', 1],
    ]);
  });
});

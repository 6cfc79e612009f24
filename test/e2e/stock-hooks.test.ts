import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blockHosts, mapLocal, mapRemote, mockServer, setHeaders } from '../../src/index.js';
import { openTunnel, sendViaProxy } from '../helpers/client.js';
import { curlVia, type CurlResult } from '../helpers/curl.js';
import { customOrigin, e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import type { EchoBody } from '../helpers/origin.js';

// The stock hooks, each through a real proxy with curl and Node clients.
describe('stock hooks', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: httpsOrigin, plain: httpOrigin, counted: customOrigin((_req, res) => res.end('from origin')) },
    hookProxies: true,
  });
  let files: string;

  before(async () => {
    files = await mkdtemp(join(tmpdir(), 'mitm-test-map-local-'));
    await mkdir(join(files, 'site', 'sub'), { recursive: true });
    await writeFile(join(files, 'site', 'index.html'), '<h1>local index</h1>');
    await writeFile(join(files, 'site', 'app.js'), 'console.log("local app");');
    await writeFile(join(files, 'site', 'data.json'), '{"local":true}');
    await writeFile(join(files, 'site', 'sub', 'page.txt'), 'a local page');
    await writeFile(join(files, 'site', 'name with space.txt'), 'spaced');
    await writeFile(join(files, 'secret.txt'), 'TOP SECRET');
  });

  after(async () => {
    await rm(files, { recursive: true, force: true });
  });

  it('setHeaders adds, replaces and removes headers on matching requests and responses only', async (t) => {
    const proxy = await fx.hooks.start(t, [
      setHeaders({
        match: `${fx.origin.url}/echo?tagged*`,
        request: { 'X-Added': 'yes', 'user-agent': 'replaced/1.0', 'x-drop': null },
        response: { 'content-type': 'application/x-tagged', 'x-response': 'added' },
      }),
    ]);
    const call = (query: string): Promise<CurlResult> =>
      curlVia(proxy.url, ['-H', 'x-drop: please', '-A', 'curl-test', `${fx.origin.url}/echo?${query}`], fx.hooks.caPath);
    const tagged = await call('tagged=1');
    const echo = JSON.parse(tagged.text) as EchoBody;
    assert.equal(echo.headers['x-added'], 'yes');
    assert.equal(echo.headers['user-agent'], 'replaced/1.0');
    assert.equal(echo.headers['x-drop'], undefined);
    assert.equal(tagged.headers['content-type'], 'application/x-tagged');
    assert.equal(tagged.headers['x-response'], 'added');

    const untouched = await call('other=1');
    const echo2 = JSON.parse(untouched.text) as EchoBody;
    assert.equal(echo2.headers['x-added'], undefined);
    assert.equal(echo2.headers['user-agent'], 'curl-test');
    assert.equal(echo2.headers['x-drop'], 'please');
    assert.equal(untouched.headers['content-type'], 'application/json');
  });

  it('blockHosts rejects CONNECTs to blocked hosts and answers plain HTTP to them with 403 blocked', async (t) => {
    const proxy = await fx.hooks.start(t, [
      blockHosts(['*.blocked.test', 'exact.test']),
      // Answers for blocked.test itself, so a request blockHosts lets through needs no real origin.
      {
        name: 'answers blocked.test',
        onRequest(flow) {
          if (new URL(flow.request.url).hostname !== 'blocked.test') return;
          flow.respond({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'not blocked' });
        },
      },
    ]);
    const tunnel = await openTunnel(proxy.port, 'api.blocked.test:443');
    tunnel.socket.destroy();
    assert.equal(tunnel.status, 403);
    assert.equal(tunnel.headers['x-mitm-error'], 'connect_rejected');
    const viaCurl = await curlVia(proxy.url, ['https://deep.api.blocked.test/'], fx.hooks.caPath);
    assert.equal(viaCurl.connectStatus, 403);

    const http = await curlVia(proxy.url, ['http://exact.test/page']);
    assert.equal(http.status, 403);
    assert.equal(http.headers['x-mitm-error'], 'blocked');
    assert.equal(http.text, 'exact.test is blocked (blockHosts exact.test)\n');
    const flow = await proxy.waitForFlow((f) => f.request.url === 'http://exact.test/page');
    assert.ok(flow.tags.has('blocked'));

    // Globs are host globs: *.blocked.test does not cover blocked.test itself, and others pass.
    const parentTunnel = await openTunnel(proxy.port, 'blocked.test:443');
    parentTunnel.socket.destroy();
    assert.equal(parentTunnel.status, 200, 'CONNECT blocked.test is not rejected');
    const parentHttps = await curlVia(proxy.url, ['https://blocked.test/'], fx.hooks.caPath);
    assert.equal(parentHttps.connectStatus, 200, parentHttps.stderr);
    assert.equal(parentHttps.status, 200, parentHttps.stderr);
    assert.equal(parentHttps.text, 'not blocked');
    assert.equal(parentHttps.headers['x-mitm-error'], undefined);
    const parentHttp = await curlVia(proxy.url, ['http://blocked.test/page']);
    assert.equal(parentHttp.status, 200);
    assert.equal(parentHttp.text, 'not blocked');
    const parentFlow = await proxy.waitForFlow((f) => f.request.url === 'http://blocked.test/page');
    assert.ok(!parentFlow.tags.has('blocked'));
    const sub = await curlVia(proxy.url, [`http://localhost:${fx.counted.port}/`]);
    assert.equal(sub.text, 'from origin');
    const parent = await openTunnel(proxy.port, `localhost:${fx.origin.port}`);
    parent.socket.destroy();
    assert.equal(parent.status, 200);
  });

  it('blockHosts also answers requests inside a tunnel an earlier hook chose to intercept', async (t) => {
    const proxy = await fx.hooks.start(t, [{ name: 'intercept-all', onConnect: () => 'intercept' }, blockHosts(['*.blocked.test'])]);
    const res = await curlVia(proxy.url, ['https://api.blocked.test/x'], fx.hooks.caPath);
    assert.equal(res.connectStatus, 200);
    assert.equal(res.status, 403, res.stderr);
    assert.equal(res.headers['x-mitm-error'], 'blocked');
  });

  it('mapRemote sends matching URLs to another origin (glob and prefix forms) and leaves others alone', async (t) => {
    const proxy = await fx.hooks.start(t, [
      mapRemote('https://api.prod.test/*', `http://127.0.0.1:${fx.plain.port}/*`),
      mapRemote('http://legacy.test/v1/', `${fx.origin.url}/`),
    ]);
    const glob = await curlVia(proxy.url, ['https://api.prod.test/echo?page=2'], fx.hooks.caPath);
    assert.equal(glob.status, 200, glob.stderr);
    const echo = JSON.parse(glob.text) as EchoBody;
    assert.equal(echo.url, '/echo?page=2');
    assert.equal(echo.headers.host, `127.0.0.1:${fx.plain.port}`);

    const prefix = await curlVia(proxy.url, ['-d', 'moved body', 'http://legacy.test/v1/echo'], fx.hooks.caPath);
    assert.equal(prefix.status, 200, prefix.stderr);
    const echo2 = JSON.parse(prefix.text) as EchoBody;
    assert.equal(echo2.url, '/echo');
    assert.equal(echo2.body, 'moved body');
    assert.equal(echo2.headers.host, `localhost:${fx.origin.port}`);
    const flow = await proxy.waitForFlow((f) => f.request.url === `${fx.origin.url}/echo`);
    assert.ok(flow.tags.has('mapped'));

    const other = await curlVia(proxy.url, [`http://localhost:${fx.counted.port}/`]);
    assert.equal(other.text, 'from origin');
  });

  it('mapLocal serves a folder with content types, 404 for missing files, 403 for paths escaping it', async (t) => {
    const proxy = await fx.hooks.start(t, [mapLocal('https://cdn.test/assets/', join(files, 'site'))]);
    const get = (path: string, ...args: string[]): Promise<CurlResult> =>
      curlVia(proxy.url, [...args, `https://cdn.test/assets/${path}`], fx.hooks.caPath);

    const app = await get('app.js');
    assert.equal(app.status, 200, app.stderr);
    assert.equal(app.text, 'console.log("local app");');
    assert.equal(app.headers['content-type'], 'text/javascript; charset=utf-8');
    const index = await get('');
    assert.equal(index.text, '<h1>local index</h1>');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    const json = await get('data.json?v=3');
    assert.equal(json.text, '{"local":true}');
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal((await get('sub/page.txt')).text, 'a local page');
    assert.equal((await get('name%20with%20space.txt')).text, 'spaced');

    const missing = await get('missing.css');
    assert.equal(missing.status, 404);

    for (const outside of ['../secret.txt', '%2e%2e/secret.txt', '..%2fsecret.txt', 'sub/../../secret.txt', '%2Fetc%2Fpasswd']) {
      const res = await get(outside, '--path-as-is');
      assert.ok(res.status === 403 || res.status === 404, `${outside}: got ${res.status}`);
      assert.ok(!res.text.includes('TOP SECRET'), `${outside} leaked a file outside the folder`);
    }
    assert.equal((await get('../secret.txt', '--path-as-is')).status, 403);
    const flow = await proxy.waitForFlow((f) => f.request.url.endsWith('/app.js'));
    assert.ok(flow.tags.has('map-local'));
  });

  it('mapLocal maps one file to exactly one URL; other URLs reach the origin', async (t) => {
    const proxy = await fx.hooks.start(t, [mapLocal(`${fx.plain.url}/hello`, join(files, 'site', 'data.json'))]);
    const mapped = await sendViaProxy(proxy.port, `${fx.plain.url}/hello?cachebust=1`);
    assert.equal(mapped.text, '{"local":true}');
    assert.equal(mapped.headers['content-type'], 'application/json');
    const neighbour = await sendViaProxy(proxy.port, `${fx.plain.url}/hellox`);
    assert.equal(neighbour.status, 404);
    assert.equal(neighbour.text, 'not found', 'the origin answers URLs the file mapping does not cover');
  });

  it('mockServer answers by method, URL glob, headers and partial JSON body, and passes the rest through', async (t) => {
    const mock = mockServer();
    mock.get('https://api.test/users').reply(200, { users: [] });
    mock.get('https://api.test/users/*').reply(200, 'one user', { 'x-mock': 'glob' });
    mock.post(`${fx.origin.url}/echo`, { body: { name: 'x', tags: ['a'] }, headers: { 'X-K': 'v' } }).reply(201, { created: true });
    mock.post(`${fx.origin.url}/echo`, { body: /^raw:/ }).reply(202, Buffer.from([1, 2, 3]));
    const proxy = await fx.hooks.start(t, [mock.hook]);
    const call = (...args: string[]): Promise<CurlResult> => curlVia(proxy.url, args, fx.hooks.caPath);

    const list = await call('https://api.test/users');
    assert.equal(list.status, 200, list.stderr);
    assert.deepEqual(JSON.parse(list.text), { users: [] });
    assert.equal(list.headers['content-type'], 'application/json');
    const one = await call('https://api.test/users/42');
    assert.equal(one.text, 'one user');
    assert.equal(one.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(one.headers['x-mock'], 'glob');

    const json = ['-H', 'content-type: application/json', '--data'];
    const created = await call('-H', 'x-k: v', ...json, '{"name":"x","tags":["a"],"extra":1}', `${fx.origin.url}/echo`);
    assert.equal(created.status, 201);
    assert.deepEqual(JSON.parse(created.text), { created: true });
    // A different value, a missing header, or a longer array do not match: the origin answers.
    for (const args of [
      ['-H', 'x-k: v', ...json, '{"name":"y","tags":["a"]}'],
      [...json, '{"name":"x","tags":["a"]}'],
      ['-H', 'x-k: v', ...json, '{"name":"x","tags":["a","b"]}'],
    ]) {
      const passed = await call(...args, `${fx.origin.url}/echo`);
      assert.equal(passed.status, 200, args.join(' '));
      assert.equal((JSON.parse(passed.text) as EchoBody).method, 'POST');
    }
    const raw = await call('--data-binary', 'raw: bytes', `${fx.origin.url}/echo`);
    assert.equal(raw.status, 202);
    assert.deepEqual([...raw.body], [1, 2, 3]);
    assert.equal(raw.headers['content-type'], 'application/octet-stream');

    // Exact URL globs: a query string is part of the URL.
    const paged = await call('http://api.test/users?page=2');
    assert.equal(paged.status, 502, 'api.test does not resolve: an unmatched request goes to the origin');

    assert.deepEqual(
      mock.calls.map((c) => [c.method, c.url, c.rule]),
      [
        ['GET', 'https://api.test/users', 'GET https://api.test/users'],
        ['GET', 'https://api.test/users/42', 'GET https://api.test/users/*'],
        ['POST', `${fx.origin.url}/echo`, `POST ${fx.origin.url}/echo`],
        ['POST', `${fx.origin.url}/echo`, `POST ${fx.origin.url}/echo`],
      ],
    );
    assert.equal(mock.calls[2]?.body, '{"name":"x","tags":["a"],"extra":1}');
    assert.equal(mock.calls[2]?.headers['x-k'], 'v');
    assert.deepEqual(mock.pending(), []);
    const flow = await proxy.waitForFlow((f) => f.request.url === 'https://api.test/users');
    assert.ok(flow.tags.has('mocked'));
    assert.equal(flow.response?.synthetic, true);
  });

  it('mockServer counts uses: times(n), once(), pending(), and unmatched: fail answers 501', async (t) => {
    const mock = mockServer({ unmatched: 'fail' });
    mock.get(`http://localhost:${fx.counted.port}/flaky`).once().reply(503, 'try again');
    mock.get(`http://localhost:${fx.counted.port}/flaky`).reply(200, 'recovered');
    mock.any(`http://localhost:${fx.counted.port}/twice`).times(2).reply(200, 'ok');
    mock.delete(`http://localhost:${fx.counted.port}/never`).reply(204);
    const proxy = await fx.hooks.start(t, [mock.hook]);
    const url = (path: string): string => `http://localhost:${fx.counted.port}${path}`;
    const originBefore = fx.counted.requestCount();

    assert.deepEqual(mock.pending(), [
      `GET ${url('/flaky')} (0 of 1 used)`,
      `GET ${url('/flaky')} (0 used)`,
      `* ${url('/twice')} (0 of 2 used)`,
      `DELETE ${url('/never')} (0 used)`,
    ]);
    assert.equal((await sendViaProxy(proxy.port, url('/flaky'))).status, 503);
    assert.equal((await sendViaProxy(proxy.port, url('/flaky'))).text, 'recovered');
    assert.equal((await sendViaProxy(proxy.port, url('/flaky'))).text, 'recovered');
    assert.equal((await sendViaProxy(proxy.port, url('/twice'), { method: 'PUT', body: 'x' })).text, 'ok');
    assert.deepEqual(mock.pending(), [`* ${url('/twice')} (1 of 2 used)`, `DELETE ${url('/never')} (0 used)`]);
    assert.equal((await sendViaProxy(proxy.port, url('/twice'))).text, 'ok');

    const third = await sendViaProxy(proxy.port, url('/twice'));
    assert.equal(third.status, 501, 'a used-up rule no longer answers, and unmatched requests fail');
    assert.match(third.text, new RegExp(`^no mock rule matches GET ${url('/twice')}\\n`));
    assert.match(third.text, /\* .*\/twice \(2 of 2 used\)/);
    assert.deepEqual(mock.pending(), [`DELETE ${url('/never')} (0 used)`]);
    assert.equal(fx.counted.requestCount(), originBefore, 'nothing reached the origin');
  });
});

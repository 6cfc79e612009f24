import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClientHttp2Session } from 'node:http2';
import { before, describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { customOrigin, e2eFixture, httpsOrigin, selfSignedOrigin } from '../helpers/fixture.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';
import { startH2Origin, type H2EchoBody } from '../helpers/h2-origin.js';
import type { EchoBody } from '../helpers/origin.js';
import { run } from '../helpers/run.js';

// HTTP/2 on both hops, in every combination with HTTP/1.1: curl and Node's http2 client towards
// the proxy, Node's HTTP/1.1 (https) and HTTP/2 servers as origins.
describe('proxy: HTTP/2', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      h1: httpsOrigin,
      h2: (pki) => startH2Origin(pki.origin, { allowHTTP1: true }),
      h2Only: (pki) => startH2Origin(pki.origin, { allowHTTP1: false }),
      untrusted: selfSignedOrigin,
    },
    proxies: { mitm: {} },
  });
  let mitmCa: string;
  const sessions: ClientHttp2Session[] = [];
  const open = async (authority: string): Promise<ClientHttp2Session> => {
    const session = await h2ViaProxy(fx.mitm.port, authority, mitmCa);
    sessions.push(session);
    return session;
  };
  /** curl through the proxy: the HTTP version curl spoke to it (`2`, `1.1`), the status and the body. */
  const curl = async (...args: string[]): Promise<{ version: string; status: number; body: string }> => {
    // The body goes to stdout as it arrives; -w's line follows it once the transfer is done.
    const result = await run('curl', [
      '-q',
      '-sS',
      '--proxy',
      fx.mitm.url,
      '--cacert',
      fx.mitm.caPath,
      '-w',
      '\n%{http_version} %{http_code}',
      ...args,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout.toString('utf8');
    const [version = '', status = ''] = out.slice(out.lastIndexOf('\n') + 1).split(' ');
    return { version, status: Number(status), body: out.slice(0, out.lastIndexOf('\n')) };
  };

  fx.onClose(() => {
    for (const session of sessions) session.destroy();
  });

  before(async () => {
    mitmCa = await readFile(fx.mitm.caPath, 'utf8');
  });

  it('curl --http2 speaks HTTP/2 to the proxy against an h2 origin and an HTTP/1.1-only origin; flows record both versions', async () => {
    const viaH2 = `https://localhost:${fx.h2.port}/hello`;
    const viaH1 = `https://localhost:${fx.h1.port}/hello`;
    assert.deepEqual(await curl('--http2', viaH2), { version: '2', status: 200, body: 'hello' });
    assert.deepEqual(await curl('--http2', viaH1), { version: '2', status: 200, body: 'hello' });
    const toH2 = await fx.mitm.proxy.waitForFlow((flow) => flow.request.url === viaH2);
    assert.equal(toH2.request.httpVersion, '2.0');
    assert.equal(toH2.response?.httpVersion, '2.0');
    const toH1 = await fx.mitm.proxy.waitForFlow((flow) => flow.request.url === viaH1);
    assert.equal(toH1.request.httpVersion, '2.0');
    assert.equal(toH1.response?.httpVersion, '1.1');
    // The origin chose http/1.1 on its first (probing) connection, and that connection served the request.
    assert.equal(fx.h1.connectionCount(), 1);
  });

  it('curl --http1.1 reaches an h2-only origin; the origin sees HTTP/2 with :authority and joined-up headers', async () => {
    const res = await curl(
      '--http1.1',
      '-H',
      'Cookie: a=1; b=2',
      '-H',
      'Connection: x-hop, TE',
      '-H',
      'X-Hop: secret',
      '-H',
      'TE: trailers, deflate',
      `https://localhost:${fx.h2Only.port}/echo?q=1`,
    );
    assert.equal(res.version, '1.1');
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as H2EchoBody;
    assert.equal(echo.httpVersion, '2.0');
    assert.equal(echo.url, '/echo?q=1');
    assert.equal(echo.headers[':authority'], `localhost:${fx.h2Only.port}`);
    assert.equal(echo.headers.host, undefined, 'Host becomes :authority (RFC 9113 §8.3.1)');
    assert.equal(echo.headers.cookie, 'a=1; b=2');
    assert.equal(echo.headers['x-hop'], undefined, 'fields named by Connection are hop-by-hop');
    assert.equal(echo.headers.te, 'trailers', 'HTTP/2 allows TE only as "trailers" (RFC 9113 §8.2.2), which gRPC needs');
    const flow = await fx.mitm.proxy.waitForFlow((f) => f.request.url.endsWith(`${fx.h2Only.port}/echo?q=1`));
    assert.equal(flow.request.httpVersion, '1.1');
    assert.equal(flow.response?.httpVersion, '2.0');
  });

  it('serves 100 concurrent streams of one client session, all over one origin session', async () => {
    const sessionsBefore = fx.h2.sessionCount();
    const session = await open(fx.h2.authority);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        h2Request(session, { ':method': 'POST', ':path': `/echo?i=${i}`, 'content-type': 'text/plain' }, { body: `stream ${i}` }),
      ),
    );
    results.forEach((res, i) => {
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.text) as H2EchoBody;
      assert.equal(echo.url, `/echo?i=${i}`);
      assert.equal(echo.body, `stream ${i}`);
    });
    assert.ok(
      fx.h2.sessionCount() - sessionsBefore <= 1,
      `${fx.h2.sessionCount() - sessionsBefore} origin sessions for one client session`,
    );
    const flows = fx.mitm.proxy.flows.filter(
      (flow) => /\/echo\?i=\d+$/.test(flow.request.url) && flow.request.url.includes(`:${fx.h2.port}/`),
    );
    assert.equal(flows.length, 100);
    assert.equal(new Set(flows.map((flow) => flow.connectionId)).size, 1, 'streams of one session share a connection id');
  });

  it('curl multiplexing 200 streams: every answer arrives whole and every flow is recorded complete', async () => {
    // /hello declares its length (curl may finish a stream on the length and reset it with
    // STREAM_CLOSED before our END_STREAM arrives); /unsized declares none, so each of those
    // streams must end cleanly, after the last DATA, or curl fails the transfer.
    const urls = Array.from({ length: 200 }, (_, i) => `https://localhost:${fx.h2.port}/${i % 2 === 0 ? 'hello' : 'unsized'}?n=${i}`);
    const config = urls.map((url) => `url = "${url}"\noutput = "/dev/null"\n`).join('');
    const result = await run(
      'curl',
      [
        '-q',
        '-sS',
        '--http2',
        '-Z',
        '--parallel-max',
        '100',
        '--proxy',
        fx.mitm.url,
        '--cacert',
        fx.mitm.caPath,
        '-w',
        '%{http_code} %{size_download}\\n',
        '-K',
        '-',
      ],
      { stdin: config },
    );
    assert.equal(result.code, 0, result.stderr);
    const outcomes = result.stdout.toString('utf8').trim().split('\n').sort();
    assert.deepEqual(outcomes, [...Array<string>(100).fill('200 22'), ...Array<string>(100).fill('200 5')]);
    const records = await Promise.all(urls.map((url) => fx.mitm.flows.waitFor((flow) => flow.url === url)));
    const broken = records.filter((flow) => flow.error !== undefined).map((flow) => `${flow.url}: ${flow.error?.code}`);
    assert.deepEqual(broken, []);
  });
  it('translates 100 concurrent HTTP/2 streams into HTTP/1.1 for an h1 origin', async () => {
    const session = await open(fx.h1.authority);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => h2Request(session, { ':method': 'POST', ':path': `/echo?s=${i}` }, { body: `body ${i}` })),
    );
    results.forEach((res, i) => {
      const echo = JSON.parse(res.text) as EchoBody;
      assert.equal(echo.url, `/echo?s=${i}`);
      assert.equal(echo.body, `body ${i}`);
      assert.equal(echo.headers.host, fx.h1.authority);
      assert.equal(echo.headers['transfer-encoding'], 'chunked', 'an HTTP/2 body without a length is chunked for HTTP/1.1');
    });
  });

  it('streams a 4 MiB upload intact from an HTTP/2 client to both kinds of origin', async () => {
    const upload = randomBytes(4 * 1024 * 1024);
    const sha = createHash('sha256').update(upload).digest('hex');
    for (const origin of [fx.h1, fx.h2]) {
      const session = await open(origin.authority);
      const res = await h2Request(session, { ':method': 'PUT', ':path': '/echo' }, { body: upload });
      assert.equal((JSON.parse(res.text) as { bodySha256: string }).bodySha256, sha);
    }
  });

  it('sends a sized upload of curl --http2 to an HTTP/1.1 origin and its answer back (the client stream outlives the body)', async () => {
    // undici destroys a request body it has sent: that must end our view of the body, never the
    // client's stream, which still has the response to carry.
    const res = await curl('--http2', '--data-binary', 'x=1&y=2', `https://localhost:${fx.h1.port}/echo`);
    assert.equal(res.version, '2');
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.body) as EchoBody;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'x=1&y=2');
  });

  it('passes cookie crumbs joined to an HTTP/1.1 origin', async () => {
    const session = await open(fx.h1.authority);
    const res = await h2Request(session, { ':path': '/echo', cookie: ['a=1', 'b=2'] });
    assert.equal((JSON.parse(res.text) as EchoBody).headers.cookie, 'a=1; b=2');
  });

  it('opens a new origin session after the origin sent GOAWAY', async () => {
    const session = await open(fx.h2.authority);
    assert.equal((await h2Request(session, { ':path': '/hello' })).text, 'hello');
    const before = fx.h2.sessionCount();
    await fx.h2.goAway();
    const again = await h2Request(session, { ':path': '/hello' });
    assert.equal(again.status, 200);
    assert.equal(again.text, 'hello');
    assert.equal(fx.h2.sessionCount(), before + 1);
  });

  it('answers an HTTP/2 client with the readable 502 for an untrusted origin, without connection-specific fields', async () => {
    const session = await open(`localhost:${fx.untrusted.port}`);
    const res = await h2Request(session, { ':path': '/hello' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-mitm-error'], 'upstream_tls_verify');
    assert.match(res.text, new RegExp(`certificate verification failed for localhost:${fx.untrusted.port}\\b`));
    // The client's session outlives the failed exchange: the next stream gets its own answer.
    assert.equal((await h2Request(session, { ':path': '/again' })).status, 502);
  });

  it('mocks, edits headers and replaces bodies in hooks for an HTTP/2 client', async () => {
    const mark = '/hooked';
    fx.mitm.proxy.use({
      name: 'h2-editor',
      async onRequest(flow) {
        if (!flow.request.url.includes(mark)) return;
        if (flow.request.url.endsWith('/mocked')) {
          // Connection-specific fields cannot travel over HTTP/2; the proxy must drop them, not fail.
          flow.respond({ status: 203, headers: { 'x-mocked': 'yes', connection: 'close', 'keep-alive': 'timeout=5' }, body: 'mocked!' });
          return;
        }
        flow.request.headers['x-added'] = 'by-hook';
        flow.request.body = `${(await flow.request.text()).toUpperCase()} (replaced)`;
      },
      onResponse(flow) {
        if (flow.request.url.includes(mark) && flow.response) flow.response.headers['x-seen'] = flow.request.httpVersion;
      },
    });
    const session = await open(fx.h1.authority);
    const mocked = await h2Request(session, { ':path': `${mark}/mocked` });
    assert.equal(mocked.status, 203);
    assert.equal(mocked.headers['x-mocked'], 'yes');
    assert.equal(mocked.headers['x-seen'], '2.0');
    assert.equal(mocked.text, 'mocked!');
    const edited = await h2Request(session, { ':method': 'POST', ':path': `/echo?${mark}` }, { body: 'posted' });
    const echo = JSON.parse(edited.text) as EchoBody;
    assert.equal(echo.headers['x-added'], 'by-hook');
    assert.equal(echo.body, 'POSTED (replaced)');
    assert.equal(echo.headers['content-length'], String(Buffer.byteLength('POSTED (replaced)')));
    assert.equal(edited.headers['x-seen'], '2.0');
    const flow = await fx.mitm.proxy.waitForFlow((f) => f.request.url.endsWith(`${mark}/mocked`));
    assert.equal(flow.request.httpVersion, '2.0');
    assert.equal(flow.response?.synthetic, true);
  });
});

// Through the house curl helper, with HTTP/2 asked for explicitly (it is also curl's default for
// HTTPS): the proxy's error responses stay readable over HTTP/2.
describe('proxy: HTTP/2 errors through curl', { timeout: 30_000 }, () => {
  const fx = e2eFixture({
    origins: { dead: customOrigin((req) => req.socket.destroy(), { secure: true }) },
    proxies: { mitm: {} },
  });

  it('maps an origin that hangs up to a 502 upstream_reset over HTTP/2', async () => {
    const res = await curlVia(fx.mitm.url, ['--http2', `https://localhost:${fx.dead.port}/x`], fx.mitm.caPath);
    assert.equal(res.status, 502, res.stderr);
    assert.equal(res.headers['x-mitm-error'], 'upstream_reset');
    assert.match(res.text, new RegExp(`localhost:${fx.dead.port} closed the connection before answering`));
  });
});

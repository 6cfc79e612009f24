import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isMitmError, openStore, startProxy, writeHarFile } from '../../src/index.js';
import { CliProcess } from '../helpers/cli-process.js';
import { curl, curlVia, type CurlResult } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';
import { CLI_MAIN, TSX_LOADER } from '../helpers/mitm-cli.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, TestProxies } from '../helpers/proxy.js';
import { run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/store-flows.js';

// An origin whose answers differ per call (`/seq`), so a replay that repeats or reorders shows.
function originHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  let count = 0;
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://origin.test');
      if (url.pathname === '/seq') {
        count += 1;
        res.setHeader('x-count', String(count));
        res.setHeader('content-type', 'text/plain');
        res.end(`n=${count}`);
      } else if (url.pathname === '/gz') {
        res.setHeader('content-type', 'application/json');
        res.setHeader('content-encoding', 'gzip');
        res.end(gzipSync(JSON.stringify({ compressed: 'yes '.repeat(200) })));
      } else if (url.pathname === '/search') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ query: url.search }));
      } else if (url.pathname === '/echo') {
        res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
        res.end(`echo:${Buffer.concat(chunks).toString('utf8')}`);
      } else if (url.pathname === '/created') {
        res.writeHead(201, 'Made It', [
          ['Set-Cookie', 'a=1; Path=/'],
          ['Set-Cookie', 'b=2; Path=/'],
          ['X-Custom', 'kept'],
          ['Content-Type', 'text/html'],
        ]);
        res.end('<p>made</p>');
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
  };
}

function mitm(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], { timeoutMs: 60_000 });
}

/** What a replay must reproduce of an answer: status, body, and the headers the origin chose. */
function answerOf(result: CurlResult): object {
  const { status, text, headers } = result;
  return { status, text, type: headers['content-type'], custom: headers['x-custom'], cookies: headers['set-cookie'] };
}

// Records real curl traffic to an HTTPS origin through the proxy into a store and a HAR, stops the
// origin, then serves every request again from each file with the network gone.
describe('server replay (--serve-from)', { timeout: 240_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let files: { store: string; har: string };
  const recorded = new Map<string, CurlResult>();
  const proxies = new TestProxies();
  const requests: Record<string, readonly string[]> = {
    created: ['/created'],
    gz: ['--compressed', '/gz'],
    search: ['/search?b=2&a=1&token=abc'],
    form: ['--data-binary', 'x=1&y=2', '/echo'],
    json: ['-H', 'content-type: application/json', '--data-binary', '{"b":1,"a":[1,2],"nonce":"r1"}', '/echo'],
  };
  const send = (proxy: { url: string; caPath: string }, args: readonly string[]): Promise<CurlResult> => {
    const path = args.at(-1) ?? '/';
    return curlVia(proxy.url, [...args.slice(0, -1), `${origin.url}${path}`], proxy.caPath);
  };

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(originHandler(), pki.origin);
    temp = await tempDir('mitm-server-replay-');
    files = { store: join(temp.dir, 'session.db'), har: join(temp.dir, 'session.har') };
    const proxy = await startTestProxy(pki, { store: files.store });
    try {
      for (let i = 0; i < 3; i += 1) recorded.set(`seq${i + 1}`, await send(proxy, ['/seq']));
      for (const [name, args] of Object.entries(requests)) recorded.set(name, await send(proxy, args));
      await proxy.flows.waitFor(() => proxy.flows.items.length === 8);
      await writeHarFile(files.har, proxy.proxy.har());
    } finally {
      await proxy.close();
    }
    await origin.close();
  });
  after(async () => {
    await proxies.closeAll();
    await pki?.cleanup();
    await temp?.remove();
  });

  for (const kind of ['store', 'har'] as const) {
    describe(`from a ${kind === 'store' ? 'store' : 'HAR file'}`, () => {
      it('answers every recorded request as the origin did (curl over CONNECT), never contacting it', async () => {
        const proxy = await proxies.start(pki, { serveFrom: files[kind], replayUnmatched: '404' });
        for (const [name, args] of Object.entries(requests)) {
          const answer = await send(proxy, args);
          assert.deepEqual(answerOf(answer), answerOf(recorded.get(name) as CurlResult), name);
          assert.equal(answer.headers['x-mitm-error'], undefined, name);
        }
        const flow = await proxy.flows.waitFor((record) => record.url.endsWith('/created'));
        assert.equal(flow.status, 201);
        const live = proxy.proxy.flows.find((candidate) => candidate.id === flow.id);
        assert.ok(live?.tags.has('from-recording'), 'the flow is tagged from-recording');
        assert.equal(live?.response?.statusMessage, 'Made It');
      });

      it('identical requests get the recorded answers in order, then the last one again', async () => {
        const proxy = await proxies.start(pki, { serveFrom: files[kind] });
        const texts: string[] = [];
        for (let i = 0; i < 5; i += 1) texts.push((await send(proxy, ['/seq'])).text);
        assert.deepEqual(texts, ['n=1', 'n=2', 'n=3', 'n=3', 'n=3']);
      });

      it('query and body parameters match in any order; --replay-ignore-param leaves one out', async () => {
        const strict = await proxies.start(pki, { serveFrom: files[kind], replayUnmatched: '404' });
        const expected = recorded.get('search')?.text;
        assert.equal((await send(strict, ['/search?token=abc&a=1&b=2'])).text, expected);
        assert.equal((await send(strict, ['/search?token=other&a=1&b=2'])).status, 404);
        assert.equal(
          (await send(strict, ['-H', 'content-type: application/json', '--data-binary', '{"a":[1,2],"b":1,"nonce":"r1"}', '/echo'])).status,
          200,
        );
        assert.equal(
          (await send(strict, ['-H', 'content-type: application/json', '--data-binary', '{"a":[1,2],"b":1,"nonce":"r2"}', '/echo'])).status,
          404,
        );
        assert.equal((await send(strict, ['--data-binary', 'y=2&x=1', '/echo'])).text, recorded.get('form')?.text);
        const loose = await proxies.start(pki, { serveFrom: files[kind], replayUnmatched: '404', replayIgnoreParam: ['token', 'nonce'] });
        assert.equal((await send(loose, ['/search?a=1&b=2&token=other'])).text, expected);
        assert.equal((await send(loose, ['/search?a=1&b=2'])).text, expected);
        const json = await send(loose, [
          '-H',
          'content-type: application/json',
          '--data-binary',
          '{"a":[1,2],"b":1,"nonce":"r9"}',
          '/echo',
        ]);
        assert.equal(json.text, recorded.get('json')?.text);
      });
    });
  }

  it('unmatched: 404 with x-mitm-error replay_unmatched naming the request, or forwarded to the origin', async () => {
    const strict = await proxies.start(pki, { serveFrom: files.store, replayUnmatched: '404' });
    const missing = await send(strict, ['/nowhere?x=1']);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['x-mitm-error'], 'replay_unmatched');
    assert.equal(missing.text, `no recorded response matches GET ${origin.url}/nowhere?x=1\n`);
    assert.equal((await send(strict, ['-X', 'PUT', '/seq'])).status, 404);

    const live = await startCustomOrigin((_req, res) => res.end('from the live origin'));
    try {
      const forward = await proxies.start(pki, { serveFrom: files.store });
      const forwarded = await curlVia(forward.url, [`${live.url}/anything`]);
      assert.equal(forwarded.text, 'from the live origin');
      assert.equal(live.requestCount(), 1);
      // The recorded origin is gone: a forwarded request to it meets the closed port.
      assert.equal((await send(forward, ['/nowhere'])).headers['x-mitm-error'], 'upstream_refused');
    } finally {
      await live.close();
    }
  });

  it("a recorded proxy error (502: the origin's CA not trusted) is left out, not served as the origin's answer", async () => {
    const broken = join(temp.dir, 'broken.db');
    const untrusted = await startCustomOrigin((_req, res) => res.end('never seen'), pki.origin);
    try {
      const recorder = await proxies.start(pki, { store: broken, upstreamCa: [] });
      const url = `${untrusted.url}/secret`;
      const failed = await curlVia(recorder.url, [url], recorder.caPath);
      assert.deepEqual([failed.status, failed.headers['x-mitm-error']], [502, 'upstream_tls_verify']);
      await recorder.flows.waitFor((record) => record.url === url);
      await recorder.close();
    } finally {
      await untrusted.close();
    }
    // Nothing else was recorded, so there is nothing to serve: refused, saying why.
    await assert.rejects(
      proxies.start(pki, { serveFrom: broken }),
      (error: unknown) =>
        isMitmError(error) &&
        error.code === 'config_invalid' &&
        error.message.includes('1 × it ended in an error (upstream_tls_verify), not in a complete answer'),
    );
  });

  it('an HTTP/2 client gets the recorded answers', async () => {
    const proxy = await proxies.start(pki, { serveFrom: files.har });
    const session = await h2ViaProxy(proxy.port, `localhost:${new URL(origin.url).port}`, proxy.caPem);
    try {
      const first = await h2Request(session, { ':path': '/seq' });
      const made = await h2Request(session, { ':path': '/created' });
      assert.deepEqual([first.status, first.text, first.headers['x-count']], [200, 'n=1', '1']);
      assert.deepEqual([made.status, made.text, made.headers['set-cookie']], [201, '<p>made</p>', ['a=1; Path=/', 'b=2; Path=/']]);
      const gz = await h2Request(session, { ':path': '/gz', 'accept-encoding': 'gzip' });
      assert.equal(gz.headers['content-encoding'], undefined, 'served decoded');
      assert.equal(gz.text, recorded.get('gz')?.text);
    } finally {
      session.close();
    }
  });

  it('reverse and transparent listeners serve the recording too', async () => {
    const originPort = new URL(origin.url).port;
    const proxy = await proxies.start(pki, {
      serveFrom: files.store,
      replayUnmatched: '404',
      mode: [`reverse:${origin.url}@127.0.0.1:0`, `transparent@127.0.0.1:0:${originPort}`],
    });
    const portOf = (kind: string): number => proxy.proxy.addresses.find((listener) => listener.kind === kind)?.port ?? 0;
    const reverse = await curl(['--cacert', proxy.caPath, `https://localhost:${portOf('reverse')}/seq`]);
    assert.deepEqual([reverse.status, reverse.text], [200, 'n=1']);
    const transparent = await curl([
      '--cacert',
      proxy.caPath,
      '--connect-to',
      `localhost:${originPort}:127.0.0.1:${portOf('transparent')}`,
      `${origin.url}/created`,
    ]);
    assert.deepEqual(answerOf(transparent), answerOf(recorded.get('created') as CurlResult));
  });

  it('mitm start --serve-from: the line is marked [from recording], the store records the flow as from-recording', async () => {
    const out = join(temp.dir, 'replayed.db');
    const caDir = join(temp.dir, 'cli-ca');
    const cli = new CliProcess([
      'start',
      '--port',
      '0',
      '--ca',
      caDir,
      '--serve-from',
      files.har,
      '--replay-unmatched',
      '404',
      '--store',
      out,
    ]);
    try {
      const port = await cli.listeningPort();
      await cli.waitForLine('stderr', /^hooks: serve-from \(.*session\.har: 8 recorded responses\)$/);
      const proxy = { url: `http://127.0.0.1:${port}`, caPath: join(caDir, 'ca.pem') };
      assert.equal((await send(proxy, ['/seq'])).text, 'n=1');
      await cli.waitForLine('stdout', /GET https:\/\/localhost:\d+\/seq 200 .* \[from recording\]$/);
      assert.equal((await send(proxy, ['/gone'])).status, 404);
      await cli.waitForLine('stdout', /GET https:\/\/localhost:\d+\/gone 404 .* \[replay unmatched\]$/);
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    } finally {
      await cli.kill();
    }
    const store = await openStore(out, { readonly: true });
    try {
      const [seq, gone] = store.query();
      assert.deepEqual(seq?.tags, ['from-recording']);
      assert.equal(seq?.synthetic, true);
      assert.deepEqual(gone?.tags, ['replay-unmatched']);
    } finally {
      await store.close();
    }
  });

  it('mitm run --serve-from: a command gets the recording with the origin gone', async () => {
    const command = ['curl', '-q', '-sS', `${origin.url}/seq`, `${origin.url}/seq`, `${origin.url}/gone`];
    const result = await mitm([
      'run',
      '--ca',
      join(temp.dir, 'run-ca'),
      '--serve-from',
      files.store,
      '--replay-unmatched',
      '404',
      '--',
      ...command,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString('utf8'), `n=1n=2no recorded response matches GET ${origin.url}/gone\n`);
    // Not the whole line: curl's HTTP/2 stream may be recorded `aborted` after it got every byte (an
    // engine issue with any answer a hook makes to curl over HTTP/2, not replay's).
    assert.match(result.stderr, /^GET \S+\/seq 200 .*\[from recording\]$/m);
    assert.match(result.stderr, /^GET \S+\/gone 404 .*\[replay unmatched\]$/m);
  });

  it('a bad file: the error names the option and the file; the CLI exits 1, or 2 for a bad value', async () => {
    const refused = async (file: string): Promise<string> => {
      const error = await startProxy({ port: 0, ca: join(temp.dir, 'lib-ca'), serveFrom: file }).then(
        async (proxy) => {
          await proxy.close();
          return new Error('started');
        },
        (thrown: unknown) => thrown,
      );
      assert.ok(isMitmError(error), String(error));
      assert.equal(error.code, 'config_invalid');
      return error.message;
    };
    const notHar = join(temp.dir, 'not.har');
    await writeFile(notHar, '{"hello": 1}');
    assert.equal(await refused(notHar), `serveFrom ${notHar}: not a HAR file or a mitm store: no log.entries list of requests`);
    const folder = join(temp.dir, 'folder.har');
    await mkdir(folder);
    assert.equal(await refused(folder), `serveFrom ${folder}: a folder, not a HAR or store file`);
    const bare = JSON.parse(await readFile(files.har, 'utf8')) as { log: { entries: { response: { content: { text?: string } } }[] } };
    for (const entry of bare.log.entries) delete entry.response.content.text;
    const bodiless = join(temp.dir, 'bodiless.har');
    await writeFile(bodiless, JSON.stringify(bare));
    assert.equal(
      await refused(bodiless),
      `serveFrom ${bodiless}: none of its 8 recorded exchanges can be answered from: 8 × its response body was not recorded`,
    );

    const caDir = join(temp.dir, 'bad-ca');
    const start = (args: readonly string[]): Promise<RunResult> => mitm(['start', '--port', '0', '--ca', caDir, ...args]);
    const missing = await start(['--serve-from', 'nope.har']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^mitm: --serve-from nope\.har: no such file$/m);
    const badMatch = await start(['--serve-from', files.har, '--replay-match', 'method,uri']);
    assert.equal(badMatch.code, 2);
    assert.match(badMatch.stderr, /--replay-match: "method,uri": "uri" is not one of method, url, body, headers, header:NAME/);
    const alone = await start(['--replay-unmatched', '404']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /^mitm: --replay-unmatched needs --serve-from FILE$/m);
  });
});

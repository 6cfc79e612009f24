// The CLI as installed: dist/cli/main.js, the esbuild bundle `npm run build` writes (`npm ci` runs
// it), on plain node. It starts, serves HTTPS through an HTTP/1.1 TLS origin (the undici pool,
// the origin trust and forge are loaded after the ready line), and a hook file importing 'mitm'
// gets the very classes the proxy runs with: the bundle's CLI and library entries share chunks.
// The two entries loaded by path work from the bundle too: `mitm run`'s Node preload, and the
// store's writer thread. So do the chunks loaded on first use rather than at start (the WebSocket
// relay, SOCKS5), also when several clients need one at once.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { CliProcess } from '../helpers/cli-process.js';
import { curl, curlVia } from '../helpers/curl.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { runOk } from '../helpers/run.js';
import { openClient } from '../helpers/ws-client.js';
import { startWsOrigin } from '../helpers/ws-origin.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

// Outside the project (a temporary folder), so 'mitm' resolves only through the CLI's alias.
const HOOK = `
import { MitmError, isMitmError, setHeaders } from 'mitm';
const stock = setHeaders({ response: { 'x-stock': 'from-mitm' } });
export default [
  stock,
  {
    name: 'identity',
    onError(flow, error) {
      process.stderr.write('hook: error is the library MitmError: ' + (error instanceof MitmError) + ', isMitmError: ' + isMitmError(error) + '\\n');
    },
  },
];
`;

// A hook file that, as it loads (after Node's loader thread has started for the 'mitm' alias),
// allocates as a busy proxy does and says how large V8's young generation grew.
const YOUNG_HOOK = `
import { getHeapSpaceStatistics } from 'node:v8';
let kept = [];
for (let i = 0; i < 2000000; i++) {
  kept.push({ i, s: 'x' + i });
  if (kept.length > 50000) kept = kept.slice(25000);
}
const size = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
process.stderr.write('hook: new space ' + size + '\\n');
export default { name: 'young' };
`;

describe('the built CLI (dist/)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let scratch: string;

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
    scratch = await mkdtemp(join(tmpdir(), 'mitm-test-built-'));
    await writeFile(join(scratch, 'hook.mjs'), HOOK);
    await writeFile(join(scratch, 'young-hook.mjs'), YOUNG_HOOK);
  });

  after(async () => {
    await origin?.close();
    await rm(scratch, { recursive: true, force: true });
    await pki?.cleanup();
  });

  it('starts, serves HTTPS, and a hook importing mitm shares its classes', async (t) => {
    const ca = join(scratch, 'ca');
    const cli = new CliProcess(['start', '--port', '0', '--ca', ca, '--upstream-ca', pki.ca.certPath, '--quiet', '--hook', 'hook.mjs'], {
      cwd: scratch,
      built: true,
    });
    t.after(() => cli.kill());
    const proxyUrl = `http://127.0.0.1:${await cli.listeningPort()}`;

    const answer = await curlVia(proxyUrl, ['--http1.1', `${origin.url}/echo`], join(ca, 'ca.pem'));
    assert.equal(answer.status, 200, answer.stderr);
    assert.equal((JSON.parse(answer.text) as EchoBody).method, 'GET');
    assert.equal(answer.headers['x-stock'], 'from-mitm');

    // A port nothing listens on: the proxy's own MitmError (upstream_refused) reaches the hook's onError.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.ok(address !== null && typeof address === 'object');
    const refused = await curlVia(proxyUrl, [`http://127.0.0.1:${address.port}/`]);
    assert.equal(refused.status, 502, refused.stderr);
    await cli.waitForLine('stderr', /^hook: error is the library MitmError: true, isMitmError: true$/);

    cli.child.kill('SIGTERM');
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
  });

  it("keeps the young generation small with --hook: the loader thread's start does not undo the CLI's V8 flags", async (t) => {
    const cli = new CliProcess(['start', '--port', '0', '--ca', join(scratch, 'young-ca'), '--quiet', '--hook', 'young-hook.mjs'], {
      cwd: scratch,
      built: true,
    });
    t.after(() => cli.kill());
    const [, size] = await cli.waitForLine('stderr', /^hook: new space (\d+)$/);
    // --semi-space-growth-factor=1 holds it at 1–2 MiB (src/cli/memory-tuning.ts); reset, it grew to 32.
    assert.ok(Number(size) <= 4 * 2 ** 20, `the young generation grew to ${size} bytes`);
  });

  it('loads the WebSocket relay and SOCKS5 on their first use, two clients at once for each', async (t) => {
    const ca = join(scratch, 'lazy-ca');
    const wsOrigin = await startWsOrigin({ tls: pki.origin });
    t.after(() => wsOrigin.close());
    const cli = new CliProcess(['start', '--port', '0', '--ca', ca, '--upstream-ca', pki.ca.certPath, '--quiet'], {
      cwd: scratch,
      built: true,
    });
    t.after(() => cli.kill());
    const port = await cli.listeningPort();
    const mitmCa = await readFile(join(ca, 'ca.pem'), 'utf8');

    const clients = await Promise.all(
      ['one', 'two'].map(async (name) => {
        const client = await openClient(`${wsOrigin.url}/${name}`, ['chat'], {
          agent: new HttpsProxyAgent(`http://127.0.0.1:${port}`),
          ca: mitmCa,
        });
        client.ws.send(`hello ${name}`);
        await client.received(1);
        client.ws.close();
        return client.messages.map((message) => message.data.toString('utf8'));
      }),
    );
    assert.deepEqual(clients, [['hello one'], ['hello two']]);

    const answers = await Promise.all(
      [1, 2].map(async () => curl(['--proxy', `socks5h://127.0.0.1:${port}`, '--cacert', join(ca, 'ca.pem'), `${origin.url}/echo`])),
    );
    for (const answer of answers) assert.equal(answer.status, 200, answer.stderr);
  });

  it('mitm run: a Node child goes through the proxy (the preload), and --store records it (the writer thread)', async () => {
    const ca = join(scratch, 'run-ca');
    const store = join(scratch, 'flows.db');
    const script = `fetch(${JSON.stringify(`${origin.url}/echo`)}).then(async (r) => console.log('fetch ' + r.status + ' ' + (await r.json()).method))`;
    const ran = await runOk(
      process.execPath,
      [MAIN, 'run', '--ca', ca, '--upstream-ca', pki.ca.certPath, '--quiet', '--store', store, '--', process.execPath, '-e', script],
      { cwd: scratch, timeoutMs: 30_000 },
    );
    assert.equal(ran.stdout.toString('utf8').trim(), 'fetch 200 GET', ran.stderr);
    const listed = await runOk(process.execPath, [MAIN, 'flows', '--store', store], { cwd: scratch });
    assert.match(listed.stdout.toString('utf8'), new RegExp(`GET ${origin.url}/echo 200`), listed.stderr);
  });

  /**
   * Runs `mitm run --store` from a copy of the package whose writer thread module `breakModule`
   * spoilt, a Node child fetching through it; under the settle timeout (30 s), so a flush that
   * waits it out fails here. Returns the module's path and the run's stderr.
   */
  async function runWithBrokenWriter(
    name: string,
    breakModule: (path: string) => Promise<void>,
  ): Promise<{ module: string; stderr: string }> {
    const pkg = join(scratch, name);
    await mkdir(pkg);
    await cp(fileURLToPath(new URL('../../dist', import.meta.url)), join(pkg, 'dist'), { recursive: true });
    await cp(fileURLToPath(new URL('../../package.json', import.meta.url)), join(pkg, 'package.json'));
    await symlink(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(pkg, 'node_modules'));
    const module = join(pkg, 'dist', 'record', 'store', 'write-worker.js');
    await breakModule(module);
    const script = `fetch(${JSON.stringify(`${origin.url}/echo`)}).then((r) => console.log('fetch ' + r.status))`;
    const ran = await runOk(
      process.execPath,
      [
        join(pkg, 'dist', 'cli', 'main.js'),
        'run',
        '--ca',
        join(scratch, `${name}-ca`),
        '--upstream-ca',
        pki.ca.certPath,
        '--quiet',
        '--store',
        join(scratch, `${name}.db`),
        '--',
        process.execPath,
        '-e',
        script,
      ],
      { cwd: scratch, timeoutMs: 20_000 },
    );
    assert.equal(ran.stdout.toString('utf8').trim(), 'fetch 200', ran.stderr);
    return { module, stderr: ran.stderr };
  }

  it('a build without the writer thread module says so at the first write and goes on, instead of blocking 30 s per flush', async () => {
    // An incomplete build: dist/ lacks the writer thread's entry.
    const { module, stderr } = await runWithBrokenWriter('incomplete', (path) => rm(path));
    assert.ok(stderr.includes(`its module ${module} is missing`), stderr);
  });

  it('a writer thread module that throws as it loads is reported at the flush, instead of blocking it 30 s', async () => {
    // A broken install: the module is there but fails at import (a dependency that throws, a bad build).
    const { stderr } = await runWithBrokenWriter('throwing', (path) => writeFile(path, "throw new Error('a broken writer module');\n"));
    assert.match(stderr, /its writer thread failed: its module failed to load: a broken writer module/);
  });
});

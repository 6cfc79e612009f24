import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { curlVia } from '../helpers/curl.js';
import { validateHar } from '../helpers/har-schema.js';
import { CLI_MAIN, TSX_LOADER } from '../helpers/mitm-cli.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy } from '../helpers/proxy.js';
import { run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/store-flows.js';
import { startStoreOrigin, type StoreOrigin } from '../helpers/store-origin.js';

const CHROME_HAR = fileURLToPath(new URL('../fixtures/chrome-devtools.har', import.meta.url));

function mitm(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], { timeoutMs: 60_000 });
}

function stdout(result: RunResult): string {
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.toString('utf8');
}

// `mitm flows`, `mitm flows import` and `mitm replay` against a store recorded from real curl
// traffic (five flows, fixed paths), as a user would run them.
describe('mitm flows and mitm replay', { timeout: 180_000 }, () => {
  let pki: TestPki;
  let origin: StoreOrigin;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let store: string;
  let caDir: string;

  before(async () => {
    pki = await createTestPki();
    origin = await startStoreOrigin(pki.origin);
    temp = await tempDir('mitm-flows-cli-');
    store = join(temp.dir, 'session.db');
    caDir = join(temp.dir, 'ca');
    const proxy = await startTestProxy(pki, { store });
    try {
      for (const path of ['/json', '/text', '/gz', '/missing']) await curlVia(proxy.url, [`${origin.url}${path}`], proxy.caPath);
      await curlVia(proxy.url, ['--data-binary', "a=1&b=it's", `${origin.url}/echo`], proxy.caPath);
      await proxy.flows.waitFor((flow) => flow.url.endsWith('/echo'));
    } finally {
      await proxy.close();
    }
  });
  after(async () => {
    await origin?.close();
    await pki?.cleanup();
    await temp?.remove();
  });

  it('table: one live-log line per matching flow', async () => {
    const lines = stdout(await mitm(['flows', '--store', store, 'status:404']))
      .trim()
      .split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', new RegExp(`^\\s*4  GET ${origin.url}/missing 404 text/plain 9 B \\d+ ms$`));
    const all = stdout(await mitm(['flows', '--store', store, '--limit', '3', '--order', 'desc']))
      .trim()
      .split('\n');
    assert.deepEqual(
      all.map((line) => line.trim().split(/\s+/)[0]),
      ['5', '4', '3'],
    );
  });

  it('json and jsonl: plain objects with decoded bodies', async () => {
    const json = JSON.parse(stdout(await mitm(['flows', '--store', store, '--format', 'json', 'type:json']))) as {
      path: string;
      responseBody: { text: string };
    }[];
    assert.deepEqual(
      json.map((flow) => flow.path),
      ['/json'],
    );
    assert.equal(json[0]?.responseBody.text, JSON.stringify({ version: 1, path: '/json' }));
    const lines = stdout(await mitm(['flows', '--store', store, '--format', 'jsonl', '--', '-status:404']))
      .trim()
      .split('\n');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { path: string }).path),
      ['/json', '/text', '/gz', '/echo'],
    );
  });

  it('a bad filter is a usage error naming the column', async () => {
    const result = await mitm(['flows', '--store', store, 'stauts:404']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid filter at column 1: unknown field "stauts" \(did you mean status\?\)/);
  });

  it('har: valid HAR 1.2, and ours → import → export is equal on every field', async () => {
    const har = JSON.parse(stdout(await mitm(['flows', '--store', store, '--format', 'har'])));
    validateHar(har);
    assert.equal(har.log.entries.length, 5);
    const harFile = join(temp.dir, 'ours.har');
    await writeFile(harFile, JSON.stringify(har));
    const copy = join(temp.dir, 'copy.db');
    const imported = await mitm(['flows', 'import', harFile, '--store', copy]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /imported 5 flows/);
    const again = JSON.parse(stdout(await mitm(['flows', '--store', copy, '--format', 'har'])));
    assert.deepEqual(again.log.entries, har.log.entries);
  });

  it('curl: the generated command runs, through a proxy, with the same status and body', async () => {
    const text = stdout(await mitm(['flows', '--store', store, '--format', 'curl', 'method:POST OR path:/text']));
    const commands = text.split('\n').filter((line) => line.startsWith('curl ') || line.startsWith('printf '));
    assert.equal(commands.length, 2);
    assert.match(text, /--data-binary \$'a=1&b=it\\'s'/);
    const proxy = await startTestProxy(pki);
    try {
      for (const command of commands) {
        const result = await run('bash', ['-c', `${command} -w '\\n%{http_code}'`], {
          env: { HTTPS_PROXY: proxy.url, CURL_CA_BUNDLE: proxy.caPath },
        });
        const out = result.stdout.toString('utf8');
        assert.equal(result.code, 0, result.stderr);
        if (command.includes('/echo')) assert.equal(out, "a=1&b=it's\n200");
        else assert.equal(out, 'hello 1\n\n200');
      }
      await proxy.flows.waitFor((flow) => flow.method === 'POST' && flow.status === 200);
    } finally {
      await proxy.close();
    }
  });

  it('imports a Chrome DevTools HAR: pseudo-headers, base64 bodies, failed requests', async () => {
    const file = join(temp.dir, 'chrome.db');
    const imported = await mitm(['flows', 'import', CHROME_HAR, '--store', file]);
    assert.equal(imported.code, 0, imported.stderr);
    type Json = {
      method: string;
      status?: number;
      requestHttpVersion: string;
      responseBody?: { text?: string; base64?: string };
      requestBody?: { text: string };
      error?: { code: string; message: string };
      server?: { address: string };
    };
    const flows = JSON.parse(stdout(await mitm(['flows', '--store', file, '--format', 'json']))) as Json[];
    assert.deepEqual(
      flows.map((flow) => [flow.method, flow.status ?? 0]),
      [
        ['GET', 200],
        ['POST', 201],
        ['GET', 200],
        ['GET', 0],
      ],
    );
    assert.equal(flows[0]?.requestHttpVersion, '2.0');
    assert.equal(flows[0]?.server?.address, '2001:db8::10');
    assert.equal(flows[0]?.responseBody?.text, '<!doctype html><title>Shop</title><p>Welcome</p>');
    assert.equal(flows[1]?.requestBody?.text, '{"item":42,"count":2}');
    assert.equal(flows[2]?.responseBody?.base64, 'R0lGODlh');
    assert.deepEqual(flows[3]?.error, { code: 'aborted', message: 'net::ERR_NAME_NOT_RESOLVED' });
    const curlText = stdout(await mitm(['flows', '--store', file, '--format', 'curl', 'method:POST']));
    assert.doesNotMatch(curlText, /:authority|content-length/i);
    const errors = stdout(await mitm(['flows', '--store', file, 'error:aborted']));
    assert.match(errors, /pixel --- aborted/);
    validateHar(JSON.parse(stdout(await mitm(['flows', '--store', file, '--format', 'har']))));
  });

  it('replay --expect-same: exit 0 while the origin answers the same, 1 with the diff line once it changes', async () => {
    const common = ['replay', '--store', store, '--ca', caDir, '--upstream-ca', pki.ca.certPath, '--expect-same'];
    const same = await mitm([...common, 'path:/json']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout.toString('utf8'), new RegExp(`^GET ${origin.url}/json 200 → 200 body unchanged\\n$`));
    origin.version = 2;
    try {
      const changed = await mitm([...common, '--concurrency', '2', '--limit', '2', 'path:/json OR path:/missing']);
      assert.equal(changed.code, 1, changed.stderr);
      const out = changed.stdout.toString('utf8');
      assert.match(out, new RegExp(`GET ${origin.url}/json 200 → 200 body changed DIFFERENT`));
      assert.match(out, new RegExp(`GET ${origin.url}/missing 404 → 404 body unchanged`));
      assert.match(changed.stderr, /replayed 2 requests: 1 same, 1 different/);
    } finally {
      origin.version = 1;
    }
    // The replays were recorded into the same store: 5 + 1 + 2 (one of them, the /json, twice).
    const all = stdout(await mitm(['flows', '--store', store, 'path:/json']))
      .trim()
      .split('\n');
    assert.equal(all.length, 3);
  });

  it('replay names the proxy error that answered instead of the origin (here: the origin not trusted)', async () => {
    const result = await mitm(['replay', '--store', store, '--ca', caDir, '--expect-same', '--limit', '1', 'path:/json']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stdout.toString('utf8'),
      new RegExp(`^GET ${origin.url}/json 200 → 502 \\(upstream_tls_verify: .+--upstream-ca FILE.+\\) body changed DIFFERENT\\n$`),
    );
  });

  it('mitm start with a bad --store exits 1 naming the path', async () => {
    const notStore = join(temp.dir, 'not-a-store.txt');
    await writeFile(notStore, 'hello\n'.repeat(200));
    for (const path of [temp.dir, notStore]) {
      const result = await mitm(['start', '--port', '0', '--ca', caDir, '--store', path]);
      assert.equal(result.code, 1, result.stderr);
      assert.ok(result.stderr.includes(path), result.stderr);
    }
    assert.ok((await readFile(notStore, 'utf8')).startsWith('hello'), 'a refused file is not written');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { readSystemRoots } from '../../src/ca/system-roots.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { childEnv, run, runOk, type RunResult } from '../helpers/run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

/** Runs the CLI from source to completion. */
function mitm(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { DEBUG: '' }, timeoutMs: 60_000 });
}

/** Every certificate in a PEM text, as SHA-256 fingerprints. */
function fingerprints(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).fingerprint256);
}

/** Parses `export NAME=value` lines, undoing the single-quote form `mitm env` uses. */
function parseExports(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.trimEnd().split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    assert.ok(match, `not an export line: ${line}`);
    const raw = match[2] ?? '';
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
    vars.set(match[1] ?? '', value);
  }
  return vars;
}

// A Node program of the kind the preload is for: built-in fetch, https.get and http.get with the
// default agents, none of which looks at HTTP(S)_PROXY on Node 20. It trusts only what NODE_EXTRA_CA_CERTS
// adds, and the origin's CA is not among it: a request that skipped the proxy would fail.
const NODE_CLIENT = `
const http = require('node:http');
const https = require('node:https');
const [base, plainBase] = process.argv.slice(2);
function get(client, url) {
  return new Promise((resolve, reject) => {
    client.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve(res.statusCode + ' ' + body));
    }).on('error', reject);
  });
}
(async () => {
  const res = await fetch(base + '/hello?via=fetch');
  console.log('fetch ' + res.status + ' ' + (await res.text()));
  console.log('https ' + (await get(https, base + '/hello?via=https')));
  console.log('http ' + (await get(http, plainBase + '/hello?via=http')));
  process.exitCode = 3;
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

describe('mitm env and mitm run', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let plainOrigin: Origin;
  let scratch: string;
  let caDir: string;

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
    plainOrigin = await startOrigin();
    scratch = await mkdtemp(join(tmpdir(), 'mitm-env-run-'));
    caDir = join(scratch, 'ca');
    await writeFile(join(scratch, 'client.cjs'), NODE_CLIENT);
  });

  after(async () => {
    await origin?.close();
    await plainOrigin?.close();
    await pki?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it('mitm env prints exports for the proxy, ca.pem and a bundle of system roots + our CA', async () => {
    const result = await mitm(['env', '--port', '1234', '--ca', caDir]);
    assert.equal(result.code, 0, result.stderr);
    const vars = parseExports(result.stdout.toString('utf8'));
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
      assert.equal(vars.get(name), 'http://127.0.0.1:1234', name);
    }
    // Not localhost,127.0.0.1 as many shells have it: local test servers must be proxied too.
    assert.equal(vars.get('NO_PROXY'), '');
    assert.equal(vars.get('no_proxy'), '');
    assert.equal(vars.get('NODE_EXTRA_CA_CERTS'), join(caDir, 'ca.pem'));
    const bundle = join(caDir, 'ca-bundle.pem');
    for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) {
      assert.equal(vars.get(name), bundle, name);
    }
    const major = Number(process.versions.node.split('.')[0]);
    assert.equal(vars.get('NODE_USE_ENV_PROXY'), major >= 24 ? '1' : undefined);
    assert.match(result.stderr, /created a new root CA/);

    const ours = new X509Certificate(await readFile(join(caDir, 'ca.pem'), 'utf8')).fingerprint256;
    const system = fingerprints((await readSystemRoots()).pem);
    const inBundle = fingerprints(await readFile(bundle, 'utf8'));
    assert.equal(inBundle.length, system.length + 1);
    assert.deepEqual(inBundle, [...system, ours]);
    // OpenSSL agrees: our root, and a system root, are both trusted through the bundle.
    await runOk('openssl', ['verify', '-CAfile', bundle, join(caDir, 'ca.pem')]);
    const aSystemRoot = join(scratch, 'system-root.pem');
    await writeFile(
      aSystemRoot,
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec((await readSystemRoots()).pem)?.[0] ?? '',
    );
    await runOk('openssl', ['verify', '-CAfile', bundle, aSystemRoot]);
  });

  it('mitm env --no-proxy, --host 0.0.0.0, --node; quoting', async () => {
    const result = await mitm(['env', '--port', '8080', '--host', '0.0.0.0', '--ca', caDir, '--no-proxy', "internal.example, it's"]);
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout.toString('utf8');
    assert.match(text, /^export NO_PROXY='internal\.example, it'\\''s'$/m);
    assert.equal(parseExports(text).get('HTTPS_PROXY'), 'http://127.0.0.1:8080');
    assert.equal(parseExports(text).get('NODE_OPTIONS'), undefined);
    const withNode = await mitm(['env', '--ca', caDir, '--node']);
    assert.match(
      parseExports(withNode.stdout.toString('utf8')).get('NODE_OPTIONS') ?? '',
      /--import file:\/\/\/\S+\/preload\/register\.(ts|js)$/,
    );
    const zero = await mitm(['env', '--port', '0', '--ca', caDir]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--port/);
  });

  it('mitm run -- node: built-in fetch, https.get and http.get go through the proxy; the exit code is passed on', async () => {
    const command = [process.execPath, join(scratch, 'client.cjs'), origin.url, plainOrigin.url];
    const result = await mitm(['run', '--ca', caDir, '--upstream-ca', pki.ca.certPath, '--', ...command]);
    assert.equal(result.code, 3, result.stderr);
    assert.deepEqual(result.stdout.toString('utf8').trim().split('\n'), ['fetch 200 hello', 'https 200 hello', 'http 200 hello']);
    // The flows are on stderr, so the command's stdout above is exactly its own.
    assert.match(result.stderr, new RegExp(`^GET ${origin.url}/hello\\?via=fetch 200 text/plain 5 B`, 'm'));
    assert.match(result.stderr, new RegExp(`^GET ${origin.url}/hello\\?via=https 200 text/plain 5 B`, 'm'));
    assert.match(result.stderr, new RegExp(`^GET ${plainOrigin.url}/hello\\?via=http 200 text/plain 5 B`, 'm'));
    assert.match(result.stderr, /^listening on http:\/\/127\.0\.0\.1:\d+$/m);
    assert.doesNotMatch(result.stderr, /mitm preload:/);
  });

  it('mitm run -- curl: curl uses HTTPS_PROXY and CURL_CA_BUNDLE; --har records the flow', async () => {
    const har = join(scratch, 'curl.har');
    const url = `${origin.url}/hello?via=curl`;
    const result = await mitm(['run', '--ca', caDir, '--upstream-ca', pki.ca.certPath, '--har', har, '--', 'curl', '-q', '-sS', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString('utf8'), 'hello');
    assert.match(result.stderr, new RegExp(`^GET ${url.replace(/[?.]/g, '\\$&')} 200`, 'm'));
    assert.match(result.stderr, /^wrote 1 flow to .*curl\.har$/m);
    const log: unknown = JSON.parse(await readFile(har, 'utf8'));
    assert.ok(typeof log === 'object' && log !== null && 'log' in log);
    assert.match(JSON.stringify(log), new RegExp(url.replace(/[?.]/g, '\\$&')));
  });

  it('mitm run: a HAR that cannot be written at the end is reported, and a failing command keeps its status', async () => {
    // The folder is writable when mitm checks it before the command, which then removes it.
    for (const [status, expected] of [
      [3, 3],
      [0, 1],
    ] as const) {
      const folder = await mkdtemp(join(scratch, 'har-gone-'));
      const har = join(folder, 'run.har');
      const result = await mitm(['run', '--ca', caDir, '--har', har, '--', 'sh', '-c', `rm -r "${folder}"; exit ${status}`]);
      assert.equal(result.code, expected, result.stderr);
      assert.match(result.stderr, new RegExp(`^mitm: .*${har.replace(/[.]/g, '\\.')}`, 'm'));
      assert.doesNotMatch(result.stderr, /^wrote /m);
    }
  });

  it('mitm run usage errors exit 2; a missing command exits 127; a signal death exits 128+N', async () => {
    const noDashes = await mitm(['run', '--ca', caDir]);
    assert.equal(noDashes.code, 2);
    assert.match(noDashes.stderr, /^mitm: missing -- and the command to run/m);
    assert.match(noDashes.stderr, /run mitm run --help/);
    const nothingAfter = await mitm(['run', '--ca', caDir, '--']);
    assert.equal(nothingAfter.code, 2);
    assert.match(nothingAfter.stderr, /missing the command after --/);
    const badFlag = await mitm(['run', '--bogus', '--', 'true']);
    assert.equal(badFlag.code, 2);

    const missing = await mitm(['run', '--ca', caDir, '--', 'mitm-no-such-command-here', '--flag']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /^mitm: mitm-no-such-command-here: command not found$/m);

    const killed = await mitm(['run', '--ca', caDir, '--', 'sh', '-c', 'kill -TERM $$']);
    assert.equal(killed.code, 143);
  });

  it('mitm run passes SIGTERM on to the command and exits with its status', async (t) => {
    // The command reports readiness on stdout, then exits 7 when SIGTERM reaches it.
    const script =
      "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 60_000);";
    const child = spawn(process.execPath, [...CLI, 'run', '--ca', caDir, '--quiet', '--', process.execPath, '-e', script], {
      cwd: ROOT,
      env: childEnv({ DEBUG: '' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'close');
    const lines: string[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line === 'ready') resolve();
      });
      void exited.then(() => reject(new Error(`mitm run exited before the command was ready: ${stderr}`)));
    });
    await ready;
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 7, stderr);
    assert.deepEqual(lines, ['ready', 'got SIGTERM']);
  });
});

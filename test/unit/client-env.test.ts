import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { initCa, type CertificateAuthority } from '../../src/ca/authority.js';
import { readSystemRoots } from '../../src/ca/system-roots.js';
import { CA_BUNDLE_FILE, ensureCaBundle } from '../../src/harness/ca-bundle.js';
import { clientEnv, clientEnvVars, clientProxyUrl, formatExports, shellQuote } from '../../src/harness/client-env.js';
import { preloadImports, withPreload } from '../../src/harness/node-preload.js';
import { nativeEnvProxy, proxyConfigured } from '../../src/preload/env-proxy.js';
import { run } from '../helpers/run.js';

const FILES = { caCertPath: '/ca/ca.pem', bundlePath: '/ca/ca-bundle.pem' };
const NO_SYSTEM_BUNDLE = ['/nonexistent/mitm-test-bundle.pem'];

let tmp = '';
let ca: CertificateAuthority;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mitm-client-env-'));
  ({ ca } = await initCa(join(tmp, 'ca')));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every certificate in a PEM text, as SHA-256 fingerprints. */
function fingerprints(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).fingerprint256);
}

test('proxy, NO_PROXY and CA variables, in print order', () => {
  const vars = clientEnvVars('http://127.0.0.1:8080', FILES, { nodeVersion: 'v20.20.2' });
  assert.deepEqual(vars, {
    HTTP_PROXY: 'http://127.0.0.1:8080',
    HTTPS_PROXY: 'http://127.0.0.1:8080',
    http_proxy: 'http://127.0.0.1:8080',
    https_proxy: 'http://127.0.0.1:8080',
    NO_PROXY: '',
    no_proxy: '',
    NODE_EXTRA_CA_CERTS: '/ca/ca.pem',
    SSL_CERT_FILE: '/ca/ca-bundle.pem',
    REQUESTS_CA_BUNDLE: '/ca/ca-bundle.pem',
    CURL_CA_BUNDLE: '/ca/ca-bundle.pem',
    GIT_SSL_CAINFO: '/ca/ca-bundle.pem',
  });
  assert.deepEqual(Object.keys(vars).slice(0, 4), ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']);
  const withList = clientEnvVars('http://127.0.0.1:8080', FILES, { noProxy: 'internal.example,10.0.0.1', nodeVersion: 'v20.0.0' });
  assert.equal(withList.NO_PROXY, 'internal.example,10.0.0.1');
  assert.equal(withList.no_proxy, 'internal.example,10.0.0.1');
});

test('NODE_USE_ENV_PROXY only where Node honours it (24 and later)', () => {
  for (const version of ['v18.19.0', 'v20.20.2', 'v22.21.0', 'v23.11.0']) {
    assert.equal(clientEnvVars('http://p:1', FILES, { nodeVersion: version }).NODE_USE_ENV_PROXY, undefined, version);
  }
  for (const version of ['v24.0.0', 'v25.2.1', '26.0.0']) {
    assert.equal(clientEnvVars('http://p:1', FILES, { nodeVersion: version }).NODE_USE_ENV_PROXY, '1', version);
  }
});

test('the proxy URL clients use: wildcard listen addresses become loopback, IPv6 in brackets', () => {
  assert.equal(clientProxyUrl('127.0.0.1', 8080), 'http://127.0.0.1:8080');
  assert.equal(clientProxyUrl('0.0.0.0', 8080), 'http://127.0.0.1:8080');
  assert.equal(clientProxyUrl('::', 9), 'http://[::1]:9');
  assert.equal(clientProxyUrl('::1', 9), 'http://[::1]:9');
  assert.equal(clientProxyUrl('proxy.lan', 3128), 'http://proxy.lan:3128');
});

test('shell quoting: safe values bare, everything else single-quoted', () => {
  assert.equal(shellQuote('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(shellQuote('/home/me/certs/ca.pem'), '/home/me/certs/ca.pem');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote('$(rm -rf ~)'), "'$(rm -rf ~)'");
});

test('exports survive a round trip through sh, however odd the values', async () => {
  const values = ['', 'plain', 'with space', "quote ' inside", '$HOME `id` $(id) "dq" \\ backslash', 'new\nline', '*', '~user'];
  const vars = Object.fromEntries(values.map((value, i) => [`MITM_TEST_${i}`, value]));
  const script = `${formatExports(vars)}\n${values.map((_, i) => `printf '%s\\0' "$MITM_TEST_${i}"`).join('\n')}\n`;
  const result = await run('sh', ['-c', script]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.toString('utf8').split('\0').slice(0, -1), values);
  assert.match(formatExports({ A: 'x' }), /^export A=x\n$/);
});

test('ca-bundle.pem: the system roots, then our CA; Node roots when no system bundle exists', async () => {
  const system = join(tmp, 'system.pem');
  const oneRoot = rootCertificates[0] ?? '';
  await writeFile(system, `${oneRoot}\n`);
  const path = await ensureCaBundle(ca.dir, ca.certPem, [join(tmp, 'missing.pem'), system]);
  assert.equal(path, join(ca.dir, CA_BUNDLE_FILE));
  const text = await readFile(path, 'utf8');
  assert.deepEqual(fingerprints(text), [new X509Certificate(oneRoot).fingerprint256, ca.cert.fingerprint256]);
  assert.match(text, new RegExp(`system roots \\(${system.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));

  await ensureCaBundle(ca.dir, ca.certPem, NO_SYSTEM_BUNDLE);
  const fallback = fingerprints(await readFile(path, 'utf8'));
  assert.equal(fallback.length, rootCertificates.length + 1);
  assert.equal(fallback.at(-1), ca.cert.fingerprint256);
  assert.equal((await readSystemRoots(NO_SYSTEM_BUNDLE)).source, 'node');
});

test('ca-bundle.pem is rewritten only when its content would change, and atomically', async () => {
  const path = await ensureCaBundle(ca.dir, ca.certPem, NO_SYSTEM_BUNDLE);
  const first = await stat(path);
  await ensureCaBundle(ca.dir, ca.certPem, NO_SYSTEM_BUNDLE);
  const second = await stat(path);
  assert.equal(second.ino, first.ino, 'an up-to-date bundle must be left alone');
  assert.equal(second.mtimeMs, first.mtimeMs);

  // A damaged (or outdated) bundle is replaced by a new file, renamed into place.
  await writeFile(path, 'stale');
  await ensureCaBundle(ca.dir, ca.certPem, NO_SYSTEM_BUNDLE);
  assert.equal(fingerprints(await readFile(path, 'utf8')).at(-1), ca.cert.fingerprint256);
  assert.notEqual((await stat(path)).ino, first.ino);
  const leftovers = (await readdir(ca.dir)).filter((name) => name.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('clientEnv: absolute paths to ca.pem and the bundle; NODE_OPTIONS only when asked', async () => {
  const vars = await clientEnv({ proxyUrl: 'http://127.0.0.1:1', caDir: ca.dir, systemBundlePaths: NO_SYSTEM_BUNDLE });
  assert.equal(vars.NODE_EXTRA_CA_CERTS, join(ca.dir, 'ca.pem'));
  assert.equal(vars.SSL_CERT_FILE, join(ca.dir, CA_BUNDLE_FILE));
  assert.equal(vars.NODE_OPTIONS, undefined);
  const withNode = await clientEnv({
    proxyUrl: 'http://127.0.0.1:1',
    caDir: ca.dir,
    nodePreload: true,
    systemBundlePaths: NO_SYSTEM_BUNDLE,
  });
  assert.ok(withNode.NODE_OPTIONS?.includes(preloadImports().join(' ')));
  await assert.rejects(clientEnv({ proxyUrl: 'http://127.0.0.1:1', caDir: join(tmp, 'no-ca') }), { code: 'ca_missing' });
});

test("NODE_OPTIONS: the preload is appended once, after the user's own options", () => {
  const ours = preloadImports().join(' ');
  assert.equal(withPreload(undefined), ours);
  assert.equal(withPreload('  '), ours);
  assert.equal(withPreload('--max-old-space-size=512'), `--max-old-space-size=512 ${ours}`);
  assert.equal(withPreload(withPreload('--trace-warnings')), `--trace-warnings ${ours}`);
  // From source (this test runs under tsx) the .ts preload needs tsx's loader, by absolute URL.
  const flags = preloadImports();
  assert.match(flags.at(-1) ?? '', /^file:\/\/\/.*\/src\/preload\/register\.ts$/);
  assert.match(flags[1] ?? '', /^file:\/\/\/.*\/tsx\//);
});

test('the preload acts only on a configured proxy, and steps aside where Node does it natively', () => {
  assert.equal(proxyConfigured({}), false);
  assert.equal(proxyConfigured({ HTTPS_PROXY: '' }), false);
  assert.equal(proxyConfigured({ https_proxy: 'http://127.0.0.1:1' }), true);
  assert.equal(proxyConfigured({ HTTP_PROXY: 'http://127.0.0.1:1' }), true);
  assert.deepEqual(nativeEnvProxy('v20.20.2', { NODE_USE_ENV_PROXY: '1' }), { fetch: false, http: false });
  assert.deepEqual(nativeEnvProxy('v24.0.0', {}), { fetch: false, http: false });
  assert.deepEqual(nativeEnvProxy('v24.0.0', { NODE_USE_ENV_PROXY: '1' }), { fetch: true, http: false });
  assert.deepEqual(nativeEnvProxy('v24.5.0', { NODE_USE_ENV_PROXY: '1' }), { fetch: true, http: true });
  assert.deepEqual(nativeEnvProxy('v25.0.0', { NODE_USE_ENV_PROXY: '1' }), { fetch: true, http: true });
});

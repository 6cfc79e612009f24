// `mitm browser` with a real Chromium (Debian's `chromium` package), headless: the page of an
// HTTPS origin on localhost arrives through the proxy, trusted by the SPKI flag alone.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_MAIN, TSX_LOADER } from '../helpers/mitm-cli.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { run } from '../helpers/run.js';

const found = await run('sh', ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome']);
const chromium = found.code === 0 ? found.stdout.toString().trim().split('\n')[0] : undefined;
const skip = chromium === undefined ? 'no chromium on PATH (apt-get install -y chromium); mitm browser is not tested' : false;

// What makes headless Chromium usable in a test: no sandbox as root, no GPU, no calls home, and
// every name but localhost unresolvable, so nothing leaves the machine.
const HEADLESS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

describe('mitm browser', { skip, timeout: 120_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let scratch: string;

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin({ cert: pki.origin.cert, key: pki.origin.key });
    scratch = await mkdtemp(join(tmpdir(), 'mitm-browser-test-'));
  });

  after(async () => {
    await origin?.close();
    await pki?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it('loads an HTTPS page on localhost through the proxy, trusting its certificates by their key', async () => {
    const url = `${origin.url}/hello`;
    const args = [
      'browser',
      '--ca',
      join(scratch, 'ca'),
      '--upstream-ca',
      pki.ca.certPath,
      '--browser',
      chromium ?? '',
      '--',
      ...HEADLESS,
      '--dump-dom',
      url,
    ];
    const result = await run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], {
      cwd: scratch,
      env: { DEBUG: '' },
      timeoutMs: 90_000,
    });
    assert.equal(result.timedOut, false, `chromium did not finish within 90 s: ${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    // --dump-dom prints the page as a document; the origin's text/plain body sits in a <pre>.
    assert.match(result.stdout.toString(), /<pre[^>]*>hello<\/pre>/);
    // The flow line proves the request went through the proxy, decrypted (the origin's own CA is
    // not one Chromium trusts: only the proxy's certificates, by key, are accepted).
    assert.match(result.stderr, new RegExp(`^GET ${url.replace(/[.]/g, '\\.')} 200 text/plain 5 B`, 'm'));
    assert.match(result.stderr, /^CA: .*ca\.pem \(created now/m);
  });
});

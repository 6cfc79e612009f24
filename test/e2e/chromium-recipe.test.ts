// The README's Chromium recipe, step by step, on a fresh $HOME: create the NSS database, add the
// root CA to it, and start Chromium with the proxy and <-loopback>, so that an HTTPS page on
// localhost arrives through the proxy, trusted through the database (no SPKI flag).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startProxy, type FlowRecord, type RunningProxy } from '../../src/index.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { run, runOk } from '../helpers/run.js';

const tools = await run('sh', ['-c', 'command -v chromium && command -v certutil']);
const skip =
  tools.code === 0 ? false : 'chromium or certutil missing (apt-get install -y chromium libnss3-tools); the README recipe is not tested';

describe("README's Chromium recipe", { skip, timeout: 120_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let home: string;
  let proxy: RunningProxy;

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin({ cert: pki.origin.cert, key: pki.origin.key });
    home = await mkdtemp(join(tmpdir(), 'mitm-chromium-home-'));
    proxy = await startProxy({ port: 0, ca: join(home, 'ca'), upstreamCa: [pki.ca.certPath] });
  });

  after(async () => {
    await proxy?.close();
    await origin?.close();
    await pki?.cleanup();
    await rm(home, { recursive: true, force: true });
  });

  it('certutil -N, certutil -A, then chromium --proxy-server --proxy-bypass-list=<-loopback>', async () => {
    const env = { HOME: home };
    const nssdb = `sql:${join(home, '.pki', 'nssdb')}`;
    // Without the database, adding the certificate fails: the step the README used to miss.
    const tooEarly = await run('certutil', ['-d', nssdb, '-A', '-t', 'C,,', '-n', 'mitm', '-i', join(home, 'ca', 'ca.pem')], { env });
    assert.notEqual(tooEarly.code, 0);
    assert.match(tooEarly.stderr, /SEC_ERROR_BAD_DATABASE/);
    await runOk('mkdir', ['-p', join(home, '.pki', 'nssdb')]);
    await runOk('certutil', ['-d', nssdb, '-N', '--empty-password'], { env });
    await runOk('certutil', ['-d', nssdb, '-A', '-t', 'C,,', '-n', 'mitm', '-i', join(home, 'ca', 'ca.pem')], { env });

    const flows: FlowRecord[] = [];
    proxy.on('flow', (flow) => void flows.push(flow));
    const url = `${origin.url}/hello`;
    const page = await run(
      'chromium',
      [
        `--user-data-dir=${join(home, 'profile')}`,
        `--proxy-server=${proxy.url}`,
        '--proxy-bypass-list=<-loopback>',
        // For the test only: headless, as root, and no name but localhost resolvable.
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
        '--dump-dom',
        url,
      ],
      { env, timeoutMs: 90_000 },
    );
    assert.equal(page.timedOut, false, 'chromium did not finish within 90 s');
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout.toString(), /<pre[^>]*>hello<\/pre>/);
    assert.ok(
      flows.some((flow) => flow.url === url && flow.status === 200),
      `no flow for ${url} through the proxy`,
    );
  });
});

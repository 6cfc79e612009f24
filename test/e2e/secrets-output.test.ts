// Issue 16, Secrets in output: `mitm start` never prints the proxy credentials, the upstream
// proxy's password, the client-certificate passphrase or the CA key, in pretty or JSON logs, on
// success or on error paths (a wrong password, a refused upstream proxy, a bad start).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sendViaProxy } from '../helpers/client.js';
import { e2eFixture } from '../helpers/fixture.js';
import { CliProcess } from '../helpers/cli-process.js';
import { runOk } from '../helpers/run.js';

const SECRETS = ['secretpw-proxy', 'secretpw-upstream', 'secretpw-p12'];

const fx = e2eFixture({});

/** A passphrase-protected .p12 client certificate (self-signed is enough: it is only loaded). */
async function p12(dir: string): Promise<string> {
  const file = (name: string): string => join(dir, name);
  await runOk('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=client',
    '-days',
    '2',
    '-keyout',
    file('c-key.pem'),
    '-out',
    file('c.pem'),
  ]);
  await runOk('openssl', [
    'pkcs12',
    '-export',
    '-inkey',
    file('c-key.pem'),
    '-in',
    file('c.pem'),
    '-passout',
    `pass:${SECRETS[2]}`,
    '-out',
    file('c.p12'),
  ]);
  return file('c.p12');
}

function assertClean(output: string, keyPem: string): void {
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `the output contains ${secret}:\n${output}`);
  assert.ok(!output.includes('PRIVATE KEY'), 'the output contains a private key');
  const keyBody = keyPem.split('\n')[1] ?? '';
  assert.ok(keyBody.length > 20 && !output.includes(keyBody), 'the output contains the CA key');
}

describe('secrets never reach mitm output', { timeout: 60_000 }, () => {
  for (const format of ['pretty', 'json']) {
    test(`--log-format ${format}: credentials, upstream password and passphrase stay out of stdout and stderr`, async () => {
      const ca = join(fx.pki.dir, `ca-${format}`);
      const cli = new CliProcess([
        'start',
        '--port',
        '0',
        '--ca',
        ca,
        '--log-format',
        format,
        '--proxy-auth',
        `user:${SECRETS[0]}`,
        // Nothing listens on port 1: every request becomes an upstream_proxy_failed error line.
        '--upstream-proxy',
        `http://up:${SECRETS[1]}@127.0.0.1:1`,
        '--client-cert',
        `*.test=${await p12(fx.pki.dir)}`,
        '--client-cert-passphrase',
        SECRETS[2] ?? '',
      ]);
      try {
        const port = await cli.listeningPort(format === 'json' ? 'stderr' : 'stdout');
        const basic = (pass: string): string => `Basic ${Buffer.from(`user:${pass}`).toString('base64')}`;
        const denied = await sendViaProxy(port, 'http://a.test/x', { headers: { 'proxy-authorization': basic('wrong-secretpw-proxy') } });
        assert.equal(denied.status, 407);
        const failed = await sendViaProxy(port, 'http://a.test/y', { headers: { 'proxy-authorization': basic(SECRETS[0] ?? '') } });
        assert.equal(failed.status, 502);
        assert.ok(!failed.text.includes(SECRETS[1] ?? ''));
        await cli.waitForLine(format === 'json' ? 'stdout' : 'stdout', /a\.test\/y/);
      } finally {
        cli.child.kill('SIGTERM');
      }
      const { stdout, stderr } = await cli.exited;
      assertClean(`${stdout}\n${stderr}`, await readFile(join(ca, 'ca-key.pem'), 'utf8'));
    });
  }

  test('error paths at start (a wrong passphrase, a bad upstream URL) keep the secrets out too', async () => {
    const ca = join(fx.pki.dir, 'ca-errors');
    const wrongPass = new CliProcess([
      'start',
      '--port',
      '0',
      '--ca',
      ca,
      '--proxy-auth',
      `user:${SECRETS[0]}`,
      '--client-cert',
      `*.test=${await p12(fx.pki.dir)}`,
      '--client-cert-passphrase',
      'wrong-secretpw-p12',
    ]);
    const first = await wrongPass.exited;
    assert.notEqual(first.code, 0);
    const badUrl = new CliProcess(['start', '--port', '0', '--ca', ca, '--upstream-proxy', `ftp://up:${SECRETS[1]}@127.0.0.1:1`]);
    const second = await badUrl.exited;
    assert.notEqual(second.code, 0);
    // Each failed for the reason given, so the output checked below is the error path's.
    assert.match(first.stderr, /passphrase/);
    assert.match(second.stderr, /upstream-proxy/);
    assertClean(
      `${first.stdout}\n${first.stderr}\n${second.stdout}\n${second.stderr}`,
      await readFile(join(ca, 'ca-key.pem'), 'utf8').catch(() => 'x\nnot-created-yet-xxxxxxxxxxxxxxxxxxxxx\n'),
    );
  });
});

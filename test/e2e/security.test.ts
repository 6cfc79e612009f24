// Issue 16, Security: not an open proxy (--allow-client, non-loopback refused at start), loops
// by our Via marker (and a legitimate chain of two instances), and the CA key's file mode and export.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exportCaWithKey, initCa, isMitmError, loadCa, startProxy, type ClientRefusal } from '../../src/index.js';
import { sendViaProxy } from '../helpers/client.js';
import { TextReader } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { Recorder, startTestProxy } from '../helpers/proxy.js';
import { CliProcess } from '../helpers/cli-process.js';
import { run } from '../helpers/run.js';

const fx = e2eFixture({
  origins: {
    // Echoes the Via header it received.
    echo: customOrigin((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(req.headers.via ?? '')),
  },
  proxies: {
    gated: { allowClient: ['127.0.0.2/32'] },
    first: {},
    noVia: { via: false },
  },
});

describe('not an open proxy', () => {
  test('a client outside --allow-client is closed unanswered and counted; one inside is served', async () => {
    const refused = new Recorder<ClientRefusal>();
    fx.gated.proxy.on('client-refused', (refusal) => refused.push(refusal));
    const outside = connect({ port: fx.gated.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    outside.on('error', () => {});
    const reader = new TextReader(outside);
    outside.write(`GET ${fx.echo.url}/ HTTP/1.1\r\nhost: x\r\n\r\n`);
    assert.equal(await reader.ended(), '');
    const refusal = await refused.waitFor((r) => r.reason === 'client_not_allowed');
    assert.equal(refusal.client.address, '127.0.0.1');
    const inside = await sendViaProxy(fx.gated.port, `${fx.echo.url}/`, { localAddress: '127.0.0.2' });
    assert.equal(inside.status, 200);
  });

  test('--host 0.0.0.0 without --allow-client or --proxy-auth is refused at start, naming the flags', async () => {
    await assert.rejects(startTestProxy(fx.pki, { host: '0.0.0.0' }), (error: unknown) => {
      assert.ok(isMitmError(error) && error.code === 'config_invalid');
      assert.match(error.message, /open proxy/);
      assert.match(error.message, /--allow-client CIDR/);
      assert.match(error.message, /--proxy-auth/);
      return true;
    });
    await assert.rejects(startTestProxy(fx.pki, { mode: ['transparent@0.0.0.0:0'], proxyAuth: ['u:p'] }), /transparent listener/);
  });
});

describe('loops', () => {
  test('forwarded requests carry our Via; one that comes back with it is answered 508 (loop)', async () => {
    const first = await sendViaProxy(fx.first.port, `${fx.echo.url}/`);
    assert.match(first.text, /^1\.1 mitm \(mitm-id [0-9a-f]{12}\)$/);
    const looped = await sendViaProxy(fx.first.port, `${fx.echo.url}/`, { headers: { via: first.text } });
    assert.equal(looped.status, 508);
    assert.equal(looped.headers['x-mitm-error'], 'loop');
    assert.match(looped.text, /Via/);
  });

  test('two chained instances both forward, each adding its own marker', async () => {
    const second = await startTestProxy(fx.pki, { upstreamProxy: fx.first.url });
    try {
      const answer = await sendViaProxy(second.port, `${fx.echo.url}/`);
      assert.equal(answer.status, 200);
      const hops = answer.text.split(', ');
      assert.equal(hops.length, 2);
      assert.notEqual(hops[0], hops[1]);
    } finally {
      await second.close();
    }
  });

  test('--no-via adds nothing', async () => {
    const answer = await sendViaProxy(fx.noVia.port, `${fx.echo.url}/`);
    assert.equal(answer.text, '');
  });
});

describe('the CA key', () => {
  test('start refuses a key readable by group or others with the chmod to run; --allow-insecure-key overrides', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-key-mode-'));
    try {
      await initCa(dir);
      await chmod(join(dir, 'ca-key.pem'), 0o644);
      await assert.rejects(startProxy({ ca: dir, port: 0 }), (error: unknown) => {
        assert.ok(isMitmError(error) && error.code === 'ca_key_insecure');
        assert.ok(error.message.includes(`chmod 600 ${join(dir, 'ca-key.pem')}`), error.message);
        return true;
      });
      const proxy = await startProxy({ ca: dir, port: 0, allowInsecureKey: true });
      assert.ok(!JSON.stringify(proxy.config).includes('PRIVATE KEY'));
      await proxy.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('exportCaWithKey writes PKCS#12 that opens only with the passphrase', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-key-export-'));
    try {
      await initCa(dir);
      const file = join(dir, 'ca.p12');
      await writeFile(file, exportCaWithKey(await loadCa(dir), 'correct horse'));
      const opened = await run('openssl', ['pkcs12', '-in', file, '-passin', 'pass:correct horse', '-nodes']);
      assert.equal(opened.code, 0, opened.stderr);
      assert.match(opened.stdout.toString(), /BEGIN PRIVATE KEY/);
      const wrong = await run('openssl', ['pkcs12', '-in', file, '-passin', 'pass:wrong one', '-nodes']);
      assert.notEqual(wrong.code, 0);
      assert.throws(() => exportCaWithKey({ dir } as never, 'short'), /at least 8/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('mitm ca export exports the key only with --include-key, as p12, with the passphrase from MITM_CA_PASSPHRASE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-key-cli-'));
    try {
      await initCa(dir);
      const file = join(dir, 'with-key.p12');
      const args = ['ca', 'export', '--ca', dir, '--format', 'p12', '--include-key', '--out', file];
      const exported = await new CliProcess(args, { env: { MITM_CA_PASSPHRASE: 'a long passphrase' } }).exited;
      assert.equal(exported.code, 0, exported.stderr);
      const opened = await run('openssl', ['pkcs12', '-in', file, '-passin', 'pass:a long passphrase', '-nodes']);
      assert.match(opened.stdout.toString(), /BEGIN PRIVATE KEY/);
      const noPass = await new CliProcess(args).exited;
      assert.equal(noPass.code, 2);
      assert.match(noPass.stderr, /MITM_CA_PASSPHRASE/);
      const pem = await new CliProcess(['ca', 'export', '--ca', dir, '--format', 'pem', '--include-key'], {
        env: { MITM_CA_PASSPHRASE: 'a long passphrase' },
      }).exited;
      assert.equal(pem.code, 2);
      assert.ok(!pem.stdout.includes('PRIVATE KEY'));
      const plain = await new CliProcess(['ca', 'export', '--ca', dir, '--format', 'pem']).exited;
      assert.ok(plain.stdout.includes('BEGIN CERTIFICATE') && !plain.stdout.includes('PRIVATE KEY'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { openTlsTunnel, openTunnel } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { e2eFixture, httpsOrigin, selfSignedOrigin, wrongNameOrigin } from '../helpers/fixture.js';
import { startTestProxy } from '../helpers/proxy.js';
import { pythonGet } from '../helpers/python.js';
import { run, runOk } from '../helpers/run.js';
import { leafViaSClient } from '../helpers/tls-probe.js';

/** Sends GET /hello on an open TLS connection and reads the whole answer. */
async function getHello(socket: TLSSocket, host: string): Promise<string> {
  socket.write(`GET /hello HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

// The leaf for a CONNECT to an IP literal. Clients that send no SNI to an IP check its IP SAN, and
// clients that send an SNI check that name: both leaves are minted at once. Only a client that
// sends no SNI and offers at most TLS 1.2 (one from before SNI may check a name it never sent)
// waits for the origin certificate's names to be sniffed (docs/performance.md, "New hosts by IP").
describe('proxy: the leaf for a CONNECT to an IP literal', { timeout: 90_000 }, () => {
  const fx = e2eFixture({
    origins: {
      /** Certificate: DNS:localhost, IP:127.0.0.1, signed by the test CA. */
      origin: httpsOrigin,
      /** The same names, self-signed: verifies for nobody. */
      untrusted: selfSignedOrigin,
      /** Trusted, but only for wrong-name.test: not for the IP. */
      wrongName: wrongNameOrigin,
    },
    proxies: { mitm: {} },
  });

  it('no SNI, TLS 1.3 (openssl s_client): the IP alone, without the origin certificate names', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, undefined, fx.pki.dir, 'ip-no-sni.pem');
    assert.equal(leaf.x509.subjectAltName, 'IP Address:127.0.0.1');
    assert.equal(leaf.x509.checkIssued(new X509Certificate(await readFile(fx.mitm.caPath))), true);
  });

  it('an SNI name: the leaf names it and the IP', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, 'alias.test', fx.pki.dir, 'ip-sni.pem');
    assert.equal(leaf.x509.subjectAltName, 'DNS:alias.test, IP Address:127.0.0.1');
  });

  it('no SNI and at most TLS 1.2: the DNS SAN of the origin certificate joins the IP', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, undefined, fx.pki.dir, 'sniff-no-sni.pem', ['-tls1_2']);
    assert.equal(leaf.x509.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
    assert.match(leaf.opensslText, /DNS:localhost/);
  });

  it('a TLS 1.2 client checking a name it never sent (no SNI) accepts the leaf', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `127.0.0.1:${fx.origin.port}`);
    const socket = tlsConnect({
      socket: tunnel.socket,
      ca: await readFile(fx.mitm.caPath, 'utf8'),
      servername: '',
      maxVersion: 'TLSv1.2',
      checkServerIdentity: (_host, cert) => checkServerIdentity('localhost', cert),
    });
    await once(socket, 'secureConnect');
    assert.match(await getHello(socket, 'localhost'), /\r\n\r\nhello$/);
  });

  it('a ClientHello arriving in two pieces is still read: no SNI and TLS 1.3, so the IP alone', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `127.0.0.1:${fx.origin.port}`);
    const raw = tunnel.socket;
    raw.setNoDelay(true);
    let writes = 0;
    // The TLS client writes through this, which sends its first record's header on its own.
    const relay = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        writes += 1;
        if (writes > 1) {
          raw.write(chunk, done);
          return;
        }
        raw.write(chunk.subarray(0, 5));
        // Not a synchronisation: the handshake must succeed either way. The pause only keeps the
        // proxy (in this process) from reading both pieces in one go.
        setTimeout(() => raw.write(chunk.subarray(5), done), 20);
      },
      final(done) {
        raw.end();
        done();
      },
    });
    raw.on('data', (chunk: Buffer) => relay.push(chunk));
    raw.on('end', () => relay.push(null));
    const socket = tlsConnect({ socket: relay, ca: await readFile(fx.mitm.caPath, 'utf8'), host: '127.0.0.1', servername: '' });
    await once(socket, 'secureConnect');
    assert.equal(socket.getPeerCertificate().subjectaltname, 'IP Address:127.0.0.1');
    assert.match(await getHello(socket, '127.0.0.1'), /\r\n\r\nhello$/);
  });

  it('never copies names from an origin certificate that does not verify', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.untrusted.port}`, undefined, fx.pki.dir, 'sniff-untrusted.pem', [
      '-tls1_2',
    ]);
    assert.equal(leaf.x509.subjectAltName, 'IP Address:127.0.0.1');
  });

  for (const [what, maxVersion] of [
    ['TLS 1.3, the leaf minted at once', undefined],
    ['TLS 1.2, the names sniffed', 'TLSv1.2'],
  ] as const) {
    it(`one origin connection for a new IP host (${what})`, async () => {
      // A proxy of its own, so nothing about this origin is cached yet.
      const fresh = await startTestProxy(fx.pki);
      try {
        const before = fx.origin.connectionCount();
        const tunnel = await openTunnel(fresh.port, `127.0.0.1:${fx.origin.port}`);
        const ca = await readFile(fresh.caPath, 'utf8');
        const socket = tlsConnect({ socket: tunnel.socket, ca, host: '127.0.0.1', servername: '', ...(maxVersion ? { maxVersion } : {}) });
        await once(socket, 'secureConnect');
        assert.match(await getHello(socket, '127.0.0.1'), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nhello$/);
        assert.equal(fx.origin.connectionCount() - before, 1, "the CONNECT's connection carried the request");
      } finally {
        await fresh.close();
      }
    });
  }

  it('curl, Node (with and without a servername) and Python, connecting to the IP, accept their leaves', async () => {
    const url = `https://127.0.0.1:${fx.origin.port}/hello`;
    const viaCurl = await curlVia(fx.mitm.url, [url], fx.mitm.caPath);
    assert.equal(viaCurl.exitCode, 0, viaCurl.stderr);
    assert.equal(viaCurl.text, 'hello');

    const ca = await readFile(fx.mitm.caPath, 'utf8');
    const authority = `127.0.0.1:${fx.origin.port}`;
    // No servername: Node sends no SNI to an IP and checks the IP SAN.
    const byIp = await openTlsTunnel(fx.mitm.port, authority, { ca, host: '127.0.0.1' });
    assert.equal(byIp.authorized, true);
    assert.match(await getHello(byIp, '127.0.0.1'), /\r\n\r\nhello$/);
    // A servername: sent as SNI, and checked.
    const byName = await openTlsTunnel(fx.mitm.port, authority, { ca, servername: 'localhost' });
    assert.equal(byName.authorized, true);
    assert.match(await getHello(byName, 'localhost'), /\r\n\r\nhello$/);

    const python = await pythonGet(url, fx.mitm.caPath, fx.mitm.url);
    assert.equal(python.code, 0, python.stderr);
    assert.equal(python.stdout.toString('utf8'), '200 hello');
  });

  it('the origin is still verified before anything is forwarded: untrusted or wrong-name origins get the client a 502', async () => {
    for (const [origin, code] of [
      [fx.untrusted, 'upstream_tls_verify'],
      [fx.wrongName, 'upstream_tls_verify'],
    ] as const) {
      const answer = await curlVia(fx.mitm.url, [`https://127.0.0.1:${origin.port}/hello`], fx.mitm.caPath);
      assert.equal(answer.exitCode, 0, answer.stderr);
      assert.equal(answer.status, 502);
      assert.equal(answer.headers['x-mitm-error'], code);
    }
  });

  it('Chromium, trusting the CA through its NSS database, loads a page from the IP', { timeout: 120_000 }, async (t) => {
    const tools = await run('sh', ['-c', 'command -v chromium && command -v certutil']);
    if (tools.code !== 0) {
      t.skip('chromium or certutil missing (apt-get install -y chromium libnss3-tools)');
      return;
    }
    const home = await mkdtemp(join(tmpdir(), 'mitm-ip-chromium-'));
    try {
      const nssdb = join(home, '.pki', 'nssdb');
      await mkdir(nssdb, { recursive: true });
      await runOk('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password'], { env: { HOME: home } });
      await runOk('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'mitm', '-i', fx.mitm.caPath], { env: { HOME: home } });
      const page = await run(
        'chromium',
        [
          `--user-data-dir=${join(home, 'profile')}`,
          `--proxy-server=${fx.mitm.url}`,
          '--proxy-bypass-list=<-loopback>',
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
          '--dump-dom',
          `https://127.0.0.1:${fx.origin.port}/hello`,
        ],
        { env: { HOME: home }, timeoutMs: 90_000 },
      );
      assert.equal(page.timedOut, false, 'chromium did not finish within 90 s');
      assert.equal(page.code, 0, page.stderr);
      assert.match(page.stdout.toString(), /<pre[^>]*>hello<\/pre>/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

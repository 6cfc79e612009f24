import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { openTunnel } from '../helpers/client.js';
import { e2eFixture, httpsOrigin, selfSignedOrigin } from '../helpers/fixture.js';
import { startTestProxy } from '../helpers/proxy.js';
import { leafViaSClient } from '../helpers/tls-probe.js';

// Upstream certificate sniffing: a CONNECT to an IP literal gets a leaf carrying the origin's names.
describe('proxy: origin certificate names for IP targets', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      /** Certificate: DNS:localhost, IP:127.0.0.1, signed by the test CA. */
      origin: httpsOrigin,
      /** The same names, self-signed: verifies for nobody. */
      untrusted: selfSignedOrigin,
    },
    proxies: { mitm: {} },
  });

  it('no SNI: the leaf for the IP also names the DNS SAN of the origin certificate', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, undefined, fx.pki.dir, 'sniff-no-sni.pem');
    assert.equal(leaf.x509.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
    assert.match(leaf.opensslText, /DNS:localhost/);
    assert.equal(leaf.x509.checkIssued(new X509Certificate(await readFile(fx.mitm.caPath))), true);
  });

  it('an SNI name: the leaf names it, the origin certificate names and the IP', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.origin.port}`, 'alias.test', fx.pki.dir, 'sniff-sni.pem');
    assert.equal(leaf.x509.subjectAltName, 'DNS:alias.test, IP Address:127.0.0.1, DNS:localhost');
  });

  it('a client checking a name it never sent (no SNI) accepts the leaf', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `127.0.0.1:${fx.origin.port}`);
    const socket = tlsConnect({
      socket: tunnel.socket,
      ca: await readFile(fx.mitm.caPath, 'utf8'),
      servername: '',
      checkServerIdentity: (_host, cert) => checkServerIdentity('localhost', cert),
    });
    await once(socket, 'secureConnect');
    socket.write('GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    assert.match(Buffer.concat(chunks).toString(), /\r\n\r\nhello$/);
  });

  it('the sniffing connection serves the first request: one origin connection for a new IP host', async () => {
    // A proxy of its own, so nothing about this origin is cached yet.
    const fresh = await startTestProxy(fx.pki);
    try {
      const before = fx.origin.connectionCount();
      const tunnel = await openTunnel(fresh.port, `127.0.0.1:${fx.origin.port}`);
      const socket = tlsConnect({ socket: tunnel.socket, ca: await readFile(fresh.caPath, 'utf8'), servername: '' });
      await once(socket, 'secureConnect');
      socket.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nhello$/);
      assert.equal(fx.origin.connectionCount() - before, 1, 'the sniff connection was handed to the pool, not closed');
    } finally {
      await fresh.close();
    }
  });

  it('never copies names from an origin certificate that does not verify', async () => {
    const leaf = await leafViaSClient(fx.mitm.port, `127.0.0.1:${fx.untrusted.port}`, undefined, fx.pki.dir, 'sniff-untrusted.pem');
    assert.equal(leaf.x509.subjectAltName, 'IP Address:127.0.0.1');
  });
});

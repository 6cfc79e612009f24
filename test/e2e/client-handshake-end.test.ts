// A client that ends its side in the middle of our TLS handshake: the proxy closes at once instead
// of holding the half-open connection until the 30 s handshake timeout (issue 11, lifecycle bug 1).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { openTunnel } from '../helpers/client.js';
import { captureClientHello } from '../helpers/client-hello.js';
import { within } from '../helpers/deadline.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { startSilentServer, type SilentServer } from '../helpers/silent-server.js';

describe('proxy: a client that ends its side during the TLS handshake', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let proxy: TestProxy;
  // The CONNECT is answered once the origin is dialled: a local server that accepts and says nothing.
  let origin: SilentServer;

  before(async () => {
    pki = await createTestPki();
    origin = await startSilentServer();
    proxy = await startTestProxy(pki, { autoPassthrough: true, resolve: ['hangup.test=127.0.0.1'] });
  });

  after(async () => {
    await proxy?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('is closed at once and reported as a hang-up', async () => {
    const hello = await captureClientHello('hangup.test');
    const tunnel = await openTunnel(proxy.port, `hangup.test:${origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = once(tunnel.socket, 'close');
    // The proxy answers the ClientHello (its first flight is on its way); the client says no more.
    tunnel.socket.write(hello);
    await within(once(tunnel.socket, 'data'), 'the proxy answers the ClientHello');
    tunnel.socket.end();
    await within(closed, 'the proxy closes the connection');
    const issue = await within(
      proxy.clientIssues.waitFor((i) => i.host === 'hangup.test'),
      'a client_tls issue for the host',
    );
    assert.equal(issue.code, 'client_tls');
    assert.match(issue.message, /closed the connection during the TLS handshake/);
  });
});

describe('proxy: a client that ends an intercepted tunnel before its first byte', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let proxy: TestProxy;
  let origin: SilentServer;

  before(async () => {
    pki = await createTestPki();
    origin = await startSilentServer();
    proxy = await startTestProxy(pki, { resolve: ['silent.test=127.0.0.1'] });
  });

  after(async () => {
    await proxy?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('is closed at once, not held until the handshake timeout', async () => {
    const tunnel = await openTunnel(proxy.port, `silent.test:${origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = once(tunnel.socket, 'close');
    tunnel.socket.end();
    await within(closed, 'the proxy closes the tunnel', 10_000);
    assert.equal(proxy.proxy.connections, 0);
  });
});

describe('proxy: a client that half-closes in the middle of its ClientHello', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let proxy: TestProxy;
  let origin: SilentServer;

  before(async () => {
    pki = await createTestPki();
    origin = await startSilentServer();
    proxy = await startTestProxy(pki, { resolve: ['cut.test=127.0.0.1'] });
  });

  after(async () => {
    await proxy?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  // Still held: the FIN arrives with the half ClientHello, before the TLS socket wraps the
  // connection, and the wrapped socket never reports it (docs/reliability.md, "What is left").
  it('is closed at once, not held until the handshake timeout', {
    todo: 'the FIN that came with a half ClientHello is not seen by the TLS socket',
  }, async () => {
    const hello = await captureClientHello('cut.test');
    const tunnel = await openTunnel(proxy.port, `cut.test:${origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = new Promise((resolve) => tunnel.socket.once('close', resolve));
    tunnel.socket.end(hello.subarray(0, Math.floor(hello.length / 2)));
    await within(closed, 'the proxy closes the tunnel', 10_000);
  });
});

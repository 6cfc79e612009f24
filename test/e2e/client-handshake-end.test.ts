// A client that ends its side in the middle of our TLS handshake: the proxy closes at once instead
// of holding the half-open connection until the 30 s handshake timeout (issue 11, lifecycle bug 1).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { openTunnel } from '../helpers/client.js';
import { captureClientHello } from '../helpers/client-hello.js';
import { within } from '../helpers/deadline.js';
import { e2eFixture } from '../helpers/fixture.js';
import { startSilentServer } from '../helpers/silent-server.js';
import { until } from '../helpers/until.js';

describe('proxy: clients that end their side early', { timeout: 60_000 }, () => {
  // Each CONNECT is answered once the origin is dialled: a local server that accepts and says nothing.
  const fx = e2eFixture({
    origins: { origin: () => startSilentServer() },
    proxies: {
      auto: { autoPassthrough: true, resolve: ['hangup.test=127.0.0.1'] },
      plain: { resolve: ['silent.test=127.0.0.1', 'cut.test=127.0.0.1'] },
    },
  });

  it('a client that ends its side during the TLS handshake is closed at once and reported as a hang-up', async () => {
    const hello = await captureClientHello('hangup.test');
    const tunnel = await openTunnel(fx.auto.port, `hangup.test:${fx.origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = once(tunnel.socket, 'close');
    // The proxy answers the ClientHello (its first flight is on its way); the client says no more.
    tunnel.socket.write(hello);
    await within(once(tunnel.socket, 'data'), 'the proxy answers the ClientHello');
    tunnel.socket.end();
    await within(closed, 'the proxy closes the connection');
    const issue = await within(
      fx.auto.clientIssues.waitFor((i) => i.host === 'hangup.test'),
      'a client_tls issue for the host',
    );
    assert.equal(issue.code, 'client_tls');
    assert.match(issue.message, /closed the connection during the TLS handshake/);
  });

  it('a client that ends an intercepted tunnel before its first byte is closed at once, not held until the handshake timeout', async () => {
    const tunnel = await openTunnel(fx.plain.port, `silent.test:${fx.origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = once(tunnel.socket, 'close');
    tunnel.socket.end();
    await within(closed, 'the proxy closes the tunnel', 10_000);
    assert.equal(fx.plain.proxy.connections, 0);
  });

  // The FIN arrives with the half ClientHello, before the TLS socket wraps the connection: the
  // socket it wraps has read the end already, and the TLS socket alone would never report it.
  it('a client that half-closes in the middle of its ClientHello is closed at once, not held until the handshake timeout', async () => {
    const hello = await captureClientHello('cut.test');
    const tunnel = await openTunnel(fx.plain.port, `cut.test:${fx.origin.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const closed = new Promise((resolve) => tunnel.socket.once('close', resolve));
    tunnel.socket.end(hello.subarray(0, Math.floor(hello.length / 2)));
    await within(closed, 'the proxy closes the tunnel', 10_000);
    const issue = await within(
      fx.plain.clientIssues.waitFor((i) => i.host === 'cut.test'),
      'a client_tls issue for the host',
    );
    assert.match(issue.message, /closed the connection during the TLS handshake/);
    await until(() => fx.plain.proxy.connections === 0, 'the proxy has no client connection left', {
      describe: () => `${fx.plain.proxy.connections} open`,
    });
  });
});

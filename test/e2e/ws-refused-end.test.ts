// A WebSocket handshake the proxy refuses (here: the origin's certificate names another host),
// inside an intercepted tunnel, with frames sent after the request and then the client's FIN: the
// proxy answers and closes the connection instead of leaving it half-closed forever (the fuzzer's
// leak: nothing read the upgraded socket after the answer, so the FIN was never seen).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { openTunnel } from '../helpers/client.js';
import { TextReader, within } from '../helpers/deadline.js';
import { e2eFixture, wrongNameOrigin } from '../helpers/fixture.js';
import { until } from '../helpers/until.js';

describe('a refused WebSocket handshake, then the client ends', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ origins: { wrong: wrongNameOrigin }, proxies: { mitm: {} } });

  it('is answered with the error and the connection closed, none left open', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `localhost:${fx.wrong.port}`);
    assert.equal(tunnel.status, 200);
    tunnel.socket.on('error', () => {});
    const tls = tlsConnect({ socket: tunnel.socket, ALPNProtocols: ['http/1.1'], ca: fx.mitm.caPem, servername: 'localhost' });
    tls.on('error', () => {});
    await within(once(tls, 'secureConnect'), 'the TLS handshake through the proxy');
    const reader = new TextReader(tls);
    // More than the socket buffers before it stops reading: the rest, and the FIN, wait unread.
    const frames = Buffer.alloc(64 * 1024, 0x81);
    tls.write(
      Buffer.concat([
        Buffer.from(
          'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        frames,
      ]),
    );
    const answer = await reader.until('\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 502 [\s\S]*x-mitm-error: upstream_tls_verify/);
    tls.end();
    await until(() => fx.mitm.proxy.connections === 0, 'the proxy to have no client connection left', {
      describe: () => `${fx.mitm.proxy.connections} open`,
    });
  });
});

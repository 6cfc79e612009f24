// An origin that accepts TCP and closes at once: the CONNECT is answered (the dial succeeded), and
// the request inside the tunnel gets a readable 502 at once, not a hang until the client gives up.
// Found by the soak (docs/reliability.md): TLS over the CONNECT's already-closed connection waited.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { e2eFixture } from '../helpers/fixture.js';

describe('origin that closes every connection at once', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      closer: async () => {
        const server: Server = createServer((socket) => socket.destroy());
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
      },
    },
    proxies: { proxy: {} },
  });

  for (const host of ['localhost', '127.0.0.1']) {
    it(`https://${host}: 200 to the CONNECT, then 502 upstream_reset`, async () => {
      const result = await within(
        curlVia(fx.proxy.url, ['-m', '20', `https://${host}:${fx.closer.port}/`], fx.proxy.caPath),
        `curl through the proxy to ${host}`,
        25_000,
      );
      assert.equal(result.connectStatus, 200, result.stderr);
      assert.equal(result.status, 502, result.stderr);
      assert.equal(result.headers['x-mitm-error'], 'upstream_reset');
    });
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { openTlsTunnel } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { readFile } from 'node:fs/promises';
import { startSilentServer, type SilentServer } from '../helpers/silent-server.js';

// Well below the 30 s upstream timeout that would otherwise end a hanging handshake or dial.
const DEADLINE_MS = 5_000;

/** Sends one intercepted GET to `authority` through `proxy` and leaves it waiting. */
async function startRequest(proxy: TestProxy, authority: string): Promise<TLSSocket> {
  const tls = await openTlsTunnel(proxy.port, authority, { ca: await readFile(proxy.caPath, 'utf8'), servername: 'localhost' });
  // close() tears this down too; the reset is expected.
  tls.on('error', () => undefined);
  tls.write(`GET / HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  return tls;
}

// Issue #11: upstream.close() let origin handshakes (and dials) in flight run on, up to the upstream timeout.
describe('origin side: close() ends connections still being opened', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let silent: SilentServer;

  before(async () => {
    pki = await createTestPki();
  });

  after(async () => {
    await pki?.cleanup();
  });

  for (const [name, upstreamProxy] of [
    ['a TLS handshake with an origin that never answers', false],
    ['a CONNECT to an upstream proxy that never answers', true],
  ] as const) {
    it(`destroys ${name}`, async () => {
      silent = await startSilentServer();
      const proxy = await startTestProxy(pki, upstreamProxy ? { upstreamProxy: `http://127.0.0.1:${silent.port}` } : {});
      let client: TLSSocket | undefined;
      try {
        // Through the upstream proxy, the origin's port is never reached: any number will do.
        client = await startRequest(proxy, `localhost:${upstreamProxy ? 9 : silent.port}`);
        await within(silent.connections.waitFor(() => true), DEADLINE_MS, 'the proxy to open a connection');
        await proxy.close();
        await within(silent.allClosed(), DEADLINE_MS, () => `the ${silent.connections.items.length} connection(s) to close after proxy.close()`);
        assert.ok(silent.connections.items.length >= 1);
      } finally {
        client?.destroy();
        await proxy.close();
        await silent.close();
      }
    });
  }
});

// Issue 16, Limits: header size and count (431), headers and idle timeouts, requests per
// connection, total and per-address connection limits (503 / closed socket + client-refused), and
// a zip bomb read by a hook (body_too_large, memory untouched). Real sockets, 127.0.0.0/8 only.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ClientRefusal } from '../../src/index.js';
import { connectRaw, exchangeRaw, sendViaProxy } from '../helpers/client.js';
import { TextReader, within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { Recorder } from '../helpers/proxy.js';

const BOMB = gzipSync(Buffer.alloc(64 * 2 ** 20));

const fx = e2eFixture({
  origins: {
    origin: customOrigin((req, res) => {
      if (req.url === '/bomb') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(BOMB);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }),
  },
  proxies: {
    strict: { maxHeaderSize: 4096, maxHeaders: 20, headersTimeout: 400, idleTimeout: 400, maxRequestsPerConnection: 2 },
    few: { maxConnections: 2, maxClientConnections: 10 },
    perClient: { maxClientConnections: 1 },
    bomb: {
      maxBodyBuffer: 2 ** 20,
      hooks: [{ name: 'reader', onResponse: async (flow) => void (await flow.response?.text()) }],
    },
  },
});

/** A raw connection that has had one request answered (so the proxy has surely accepted it). */
async function busyConnection(port: number, url: string, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  await within(once(socket, 'connect'), 'the connection');
  const reader = new TextReader(socket);
  socket.write(`GET ${url} HTTP/1.1\r\nhost: ${new URL(url).host}\r\n\r\n`);
  await reader.until('\r\n0\r\n\r\n');
  return socket;
}

function refusals(fxProxy: { proxy: { on(event: 'client-refused', fn: (r: ClientRefusal) => void): unknown } }): Recorder<ClientRefusal> {
  const seen = new Recorder<ClientRefusal>();
  fxProxy.proxy.on('client-refused', (refusal) => seen.push(refusal));
  return seen;
}

describe('limits', () => {
  test('a request head over --max-header-size gets 431 headers_too_large', async () => {
    const answer = await within(
      exchangeRaw(fx.strict.port, `GET ${fx.origin.url}/ HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(5000)}\r\n\r\n`),
      'the 431',
    );
    assert.match(answer.toString(), /^HTTP\/1\.1 431 /);
    assert.match(answer.toString(), /x-mitm-error: headers_too_large/);
  });

  test('more than --max-headers fields get 431, not silently dropped fields', async () => {
    const fields = Array.from({ length: 21 }, (_, i) => `x-f${i}: ${i}\r\n`).join('');
    const answer = await within(exchangeRaw(fx.strict.port, `GET ${fx.origin.url}/ HTTP/1.1\r\nhost: x\r\n${fields}\r\n`), 'the 431');
    assert.match(answer.toString(), /^HTTP\/1\.1 431 /);
    assert.match(answer.toString(), /--max-headers/);
    const fine = await sendViaProxy(fx.strict.port, `${fx.origin.url}/`, { headers: { 'x-a': '1' } });
    assert.equal(fine.status, 200);
  });

  test('a head not finished within --headers-timeout closes the connection', async () => {
    const socket = await connectRaw(fx.strict.port);
    socket.on('error', () => {});
    socket.write(`GET ${fx.origin.url}/ HTTP/1.1\r\nhost: x\r\n`);
    socket.resume();
    await within(once(socket, 'close'), 'the proxy to close a connection whose head never ended', 5_000);
  });

  test('an idle keep-alive connection is closed after --idle-timeout', async () => {
    const socket = await busyConnection(fx.strict.port, `${fx.origin.url}/`);
    socket.on('error', () => {});
    await within(once(socket, 'close'), 'the idle connection to be closed', 5_000);
  });

  test('--max-requests-per-connection ends the connection after that many requests', async () => {
    const socket = await connectRaw(fx.strict.port);
    const reader = new TextReader(socket);
    const request = `GET ${fx.origin.url}/ HTTP/1.1\r\nhost: ${new URL(fx.origin.url).host}\r\n\r\n`;
    socket.write(request);
    await reader.until('ok');
    socket.write(request);
    const all = await reader.ended(5_000);
    assert.equal(all.match(/HTTP\/1\.1 200/g)?.length, 2);
    assert.match(all, /connection: close/i);
  });

  test('beyond --max-connections: HTTP gets 503 too_many_connections, TLS a closed socket, each counted', async () => {
    const seen = refusals(fx.few);
    const held = [await busyConnection(fx.few.port, `${fx.origin.url}/`), await busyConnection(fx.few.port, `${fx.origin.url}/`)];
    try {
      const answer = await within(exchangeRaw(fx.few.port, `GET ${fx.origin.url}/ HTTP/1.1\r\nhost: x\r\n\r\n`), 'the 503');
      assert.match(answer.toString(), /^HTTP\/1\.1 503 /);
      assert.match(answer.toString(), /x-mitm-error: too_many_connections/);
      const tls = await within(
        exchangeRaw(fx.few.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])),
        'the closed TLS connection',
      );
      assert.equal(tls.length, 0);
      await seen.waitFor(() => seen.items.filter((r) => r.reason === 'max_connections').length === 2);
    } finally {
      for (const socket of held) socket.destroy();
    }
    // Once they close, the proxy serves again.
    await within(
      (async () => {
        for (;;) {
          const answer = await sendViaProxy(fx.few.port, `${fx.origin.url}/`);
          if (answer.status === 200) return;
          // The held sockets' close reaches the proxy a turn or two later: yield, then ask again.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      })(),
      'the proxy to serve again after the connections closed',
    );
  });

  test('--max-client-connections counts per client address (127.0.0.2 is another client)', async () => {
    const seen = refusals(fx.perClient);
    const held = await busyConnection(fx.perClient.port, `${fx.origin.url}/`);
    try {
      const other = await busyConnection(fx.perClient.port, `${fx.origin.url}/`, '127.0.0.2');
      other.destroy();
      const answer = await within(exchangeRaw(fx.perClient.port, `GET ${fx.origin.url}/ HTTP/1.1\r\nhost: x\r\n\r\n`), 'the 503');
      assert.match(answer.toString(), /^HTTP\/1\.1 503 [\s\S]*too_many_connections/);
      const refusal = await seen.waitFor((r) => r.reason === 'max_client_connections');
      assert.equal(refusal.client.address, '127.0.0.1');
    } finally {
      held.destroy();
    }
  });

  test('a zip bomb read by a hook answers body_too_large without inflating it', async () => {
    const before = process.memoryUsage().rss;
    const answer = await sendViaProxy(fx.bomb.port, `${fx.origin.url}/bomb`);
    assert.equal(answer.status, 500);
    assert.equal(answer.headers['x-mitm-error'], 'body_too_large');
    assert.match(answer.text, /decodes \(gzip\) to more than the 1048576 byte buffer limit/);
    // 64 MiB of zeros would show; the cap stops inflation at 1 MiB.
    assert.ok(process.memoryUsage().rss - before < 48 * 2 ** 20, `rss grew by ${process.memoryUsage().rss - before} bytes`);
  });
});

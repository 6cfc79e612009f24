import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { H1Pools } from '../../src/origin/h1-pools.js';
import { within } from '../helpers/deadline.js';
import { type EchoBody, type Origin, startOrigin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

// The first request to an HTTP/1.1 TLS origin waits for undici's pool to load (it is loaded after
// start-up). A streamed body must wait with it: the recording listener the exchange puts on the
// body would otherwise let it flow past, and the origin would get `content-length: 0`. This file
// runs in a process of its own, so nothing has loaded the pool before the request below.
describe('the first HTTP/1.1 request to a TLS origin', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let origin: Origin;

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
  });

  after(async () => {
    await origin?.close();
    await pki?.cleanup();
  });

  it('sends the whole streamed body while undici is still loading, to a reader already listening', async () => {
    const pools = new H1Pools({
      maxConnections: 2,
      idleMs: 5_000,
      dial: () => Promise.reject(new Error('no plain origin in this test')),
      open: async (): Promise<TLSSocket> => {
        const socket = connect({
          host: '127.0.0.1',
          port: origin.port,
          servername: 'localhost',
          ca: pki.ca.cert,
          ALPNProtocols: ['http/1.1'],
        });
        await once(socket, 'secureConnect');
        return socket;
      },
    });
    try {
      const json = JSON.stringify({ order: 42, items: ['tea', 'café'] });
      const stream = Readable.from([Buffer.from(json)]);
      const seen: Buffer[] = [];
      // As Body.recordSent does: a 'data' listener, attached before the call.
      stream.on('data', (chunk: Buffer) => seen.push(chunk));
      const call = pools.secure(
        { host: 'localhost', port: origin.port, secure: true, servername: 'localhost' },
        `localhost:${origin.port}`,
        {
          method: 'POST',
          path: '/echo',
          headers: [
            'Host',
            `localhost:${origin.port}`,
            'Content-Type',
            'application/json',
            'Content-Length',
            String(Buffer.byteLength(json)),
          ],
          body: { kind: 'stream', stream },
          bodyless: false,
          trailers: () => [],
          trailersAccepted: false,
          onConnection: () => undefined,
          onInterim: () => undefined,
        },
      );
      const response = await within(call.response, 'the origin to answer the first POST');
      assert.equal(response.status, 200);
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      const echo = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EchoBody;
      assert.equal(echo.headers['content-length'], String(Buffer.byteLength(json)));
      assert.equal(echo.body, json, 'the origin got the body the client sent');
      assert.equal(Buffer.concat(seen).toString('utf8'), json, 'the listener saw it too');
    } finally {
      pools.close();
    }
  });
});

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import type { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { h2ViaProxy } from '../helpers/h2-client.js';

// An origin may answer before it has read the upload (RFC 9110 §15.5.14: 413, or 401 before a
// large body). Directly, Node's HTTP/2 server then closes the stream with RST_STREAM NO_ERROR
// (RFC 9113 §8.1) and the client's upload ends. Through the proxy an HTTP/2 client got the answer
// but its stream never closed: nothing read the rest of its upload, so flow control held it forever.
const UPLOAD = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(16 * 1024, 0x61);

/** An origin that answers 401 at once, reading none of the request body. */
function answerEarly(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(401, { 'content-type': 'text/plain' }).end('auth first');
}

/** Writes UPLOAD bytes to `to` with backpressure, stopping when it is destroyed; returns a read of the count. */
function upload(to: Writable): () => number {
  let sent = 0;
  const pump = (): void => {
    while (sent < UPLOAD && !to.destroyed) {
      sent += CHUNK.length;
      if (!to.write(CHUNK)) {
        to.once('drain', pump);
        return;
      }
    }
    if (!to.destroyed) to.end();
  };
  pump();
  return () => sent;
}

describe('an origin that answers before reading the upload', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { secure: customOrigin(answerEarly, { secure: true }) },
    proxies: { mitm: {} },
  });

  it('HTTP/2 client: gets the answer, and its stream closes instead of waiting for the upload to be read', async () => {
    const session = await h2ViaProxy(fx.mitm.port, `localhost:${fx.secure.port}`, fx.mitm.caPem);
    try {
      const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': String(UPLOAD) });
      let status = 0;
      let text = '';
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      const sent = upload(stream);
      const closed = new Promise<void>((resolve) => stream.once('close', resolve));
      await within(closed, () => `the stream to close; got ${status} ${JSON.stringify(text)}, sent ${sent()} of ${UPLOAD} bytes`);
      assert.equal(status, 401);
      assert.equal(text, 'auth first');
      assert.equal(stream.rstCode, 0, 'closed without error (NO_ERROR), the answer being complete');
      const flow = await fx.mitm.flows.waitFor((f) => f.url === `https://localhost:${fx.secure.port}/upload`);
      assert.equal(flow.status, 401);
      assert.equal(flow.error, undefined, 'the answer went out whole: the flow is not aborted');
    } finally {
      session.destroy();
    }
  });
});

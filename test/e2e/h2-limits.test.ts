// Issue 16, Limits over HTTP/2: a request over --max-header-size or --max-headers gets the same
// readable 431 headers_too_large as over HTTP/1.1 (curl --http2 and Node's http2 client); past the
// caps nghttp2 and Node enforce themselves (docs/security.md) the stream is reset before the proxy
// sees it, and the session stays usable. Real sockets, 127.0.0.0/8 only.
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';

function fields(count: number): OutgoingHttpHeaders {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-f${i}`, String(i)]));
}

describe('HTTP/2 header limits', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: customOrigin((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), { secure: true }) },
    proxies: { strict: { maxHeaderSize: 4096, maxHeaders: 20 } },
  });
  const open = async (): Promise<ClientHttp2Session> => {
    const session = await h2ViaProxy(fx.strict.port, `localhost:${fx.origin.port}`, fx.strict.caPem);
    fx.onClose(() => session.destroy());
    return session;
  };

  it("Node's http2 client: over --max-header-size or --max-headers a 431 headers_too_large, then the session serves on", async () => {
    const session = await open();
    const big = await h2Request(session, { ':path': '/', 'x-big': 'a'.repeat(5000) });
    assert.equal(big.status, 431);
    assert.equal(big.headers['x-mitm-error'], 'headers_too_large');
    assert.match(
      big.text,
      /request header fields too large \(\d+ bytes as HTTP\/2 counts them; the limit is 4096 bytes, --max-header-size\)/,
    );
    const many = await h2Request(session, { ':path': '/', ...fields(21) });
    assert.equal(many.status, 431);
    assert.match(many.text, /more than 20 request header fields \(--max-headers\)/);
    const issue = await fx.strict.clientIssues.waitFor((i) => i.code === 'headers_too_large' && /--max-headers/.test(i.message));
    assert.equal(issue.host, 'localhost');
    const fine = await h2Request(session, { ':path': '/', ...fields(20) });
    assert.equal(fine.status, 200);
    assert.equal(fine.text, 'ok');
  });

  it('curl --http2: a 431 with x-mitm-error and a one-line body', async () => {
    const answer = await curlVia(
      fx.strict.url,
      ['--http2', '-H', `x-big: ${'a'.repeat(5000)}`, `https://localhost:${fx.origin.port}/`],
      fx.strict.caPath,
    );
    assert.equal(answer.exitCode, 0, answer.stderr);
    assert.equal(answer.status, 431);
    assert.equal(answer.headers['x-mitm-error'], 'headers_too_large');
    assert.match(answer.text, /--max-header-size/);
  });

  it('past the hard caps the stream is reset before the proxy sees it (REFUSED_STREAM by size, ENHANCE_YOUR_CALM by count); the session lives on', async () => {
    const session = await open();
    const reset = async (headers: OutgoingHttpHeaders): Promise<number> => {
      const stream = session.request({ ':path': '/', ...headers }, { endStream: true });
      // Not events.once(): it rejects on the stream's 'error', which comes first.
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.on('error', () => undefined);
      stream.resume();
      await within(closed, 'the stream to be closed');
      return stream.rstCode ?? -1;
    };
    // 64 KiB (Node's default, and never less than twice --max-header-size) and 128 fields (twice
    // --max-headers plus 8 otherwise).
    assert.equal(await reset(fields(130)), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const fine = await h2Request(session, { ':path': '/' });
    assert.equal(fine.status, 200);
    assert.equal(await reset({ 'x-big': 'a'.repeat(70_000) }), http2.constants.NGHTTP2_REFUSED_STREAM);
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
  });
});

// `--fail …,reset` (failRequests kind 'reset', flow.reset()): the client's connection is reset
// instead of answered: a TCP RST for HTTP/1.x (the client sees ECONNRESET), RST_STREAM on that
// stream alone for HTTP/2; the origin is not contacted, and the flow is recorded with injected_reset.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { constants as h2 } from 'node:http2';
import { describe, it } from 'node:test';
import type { Hook } from '../../src/index.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';

const lateReset: Hook = {
  name: 'late-reset',
  onResponse(flow) {
    if (flow.request.url.endsWith('/hello?late')) flow.reset('the origin answered, and the hook reset the client anyway');
  },
};

describe('--fail reset', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { plain: httpOrigin, tls: httpsOrigin },
    proxies: { proxy: { fail: ['path:/reset*:100%,reset'], hooks: [lateReset] } },
  });

  it('plain HTTP/1.1 through the proxy: the client sees ECONNRESET, the origin is not contacted', async () => {
    const connections = fx.plain.connectionCount();
    const url = `http://127.0.0.1:${fx.plain.port}/reset-plain`;
    const req = request({ host: '127.0.0.1', port: fx.proxy.port, path: url, agent: false });
    req.end();
    const [error] = (await within(once(req, 'error'), 'the client to see its connection fail')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNRESET');
    const flow = await fx.proxy.flows.waitFor((f) => f.url === url);
    assert.equal(flow.error?.code, 'injected_reset');
    assert.match(flow.error?.message ?? '', /reset on purpose \(failRequests\)/);
    assert.equal(flow.status, undefined);
    assert.equal(fx.plain.connectionCount(), connections, 'the origin was not contacted');
    const recorded = fx.proxy.proxy.flows.find((f) => f.request.url === url);
    assert.ok(recorded?.tags.has('failed'));
  });

  it('HTTPS (HTTP/1.1 inside an intercepted tunnel): curl sees the connection reset', async () => {
    const url = `https://localhost:${fx.tls.port}/reset-tls`;
    const result = await curlVia(fx.proxy.url, ['--http1.1', url], fx.proxy.caPath);
    assert.equal(result.status, 0);
    assert.equal(result.exitCode, 56, result.stderr);
    assert.match(result.stderr, /reset/i);
    const flow = await fx.proxy.flows.waitFor((f) => f.url === url);
    assert.equal(flow.error?.code, 'injected_reset');
  });

  it('HTTP/2: RST_STREAM on that stream only; the session goes on serving', async () => {
    const session = await h2ViaProxy(fx.proxy.port, fx.tls.authority, fx.proxy.caPem);
    try {
      const stream = session.request({ ':path': '/reset-h2' });
      stream.end();
      stream.on('response', () => assert.fail('a reset stream got a response'));
      const [error] = (await within(
        once(stream, 'error').catch((e: unknown) => [e]),
        'the stream to be reset',
      )) as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ERR_HTTP2_STREAM_ERROR');
      assert.equal(stream.rstCode, h2.NGHTTP2_INTERNAL_ERROR);
      const next = await within(h2Request(session, { ':path': '/hello' }), 'a request after the reset, on the same session');
      assert.equal(next.text, 'hello');
      const flow = await fx.proxy.flows.waitFor((f) => f.url.endsWith('/reset-h2'));
      assert.equal(flow.error?.code, 'injected_reset');
    } finally {
      session.close();
    }
  });

  it('flow.reset() in onResponse resets the client after the origin answered', async () => {
    const url = `http://127.0.0.1:${fx.plain.port}/hello?late`;
    const req = request({ host: '127.0.0.1', port: fx.proxy.port, path: url, agent: false });
    req.end();
    const [error] = (await within(once(req, 'error'), 'the client to see its connection fail')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNRESET');
    const flow = await fx.proxy.flows.waitFor((f) => f.url === url);
    assert.equal(flow.error?.code, 'injected_reset');
    assert.match(flow.error?.message ?? '', /the hook reset the client anyway/);
  });
});

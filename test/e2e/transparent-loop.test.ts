// A transparent TLS connection whose SNI names the proxy itself (a name resolving to one of its own
// listeners, or its own address) is terminated with a leaf for that name and every request on it
// answered 508 with x-mitm-error: loop, over HTTP/1.1 or HTTP/2, never forwarded; the proxy keeps serving.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { describe, it } from 'node:test';
import type { ListenerInfo } from '../../src/index.js';
import { curl, curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { e2eFixture, httpsOrigin } from '../helpers/fixture.js';
import { h2Request } from '../helpers/h2-client.js';
import { refusedPort } from '../helpers/listen.js';

/** One HTTPS/1.1 request over its own connection, then a second on the same connection. */
async function twoOnOneConnection(port: number, servername: string, ca: string): Promise<IncomingMessage[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const answers: IncomingMessage[] = [];
    for (const path of ['/first', '/second']) {
      const req = request({ host: '127.0.0.1', port, servername, ca, agent, path, headers: { host: `${servername}:${port}` } });
      req.end();
      const [res] = (await within(once(req, 'response'), `the answer to ${path}`)) as [IncomingMessage];
      res.resume();
      await within(once(res, 'end'), `the end of the answer to ${path}`);
      answers.push(res);
    }
    assert.equal(answers[0]?.socket, answers[1]?.socket, 'both requests used one connection');
    return answers;
  } finally {
    agent.destroy();
  }
}

describe('transparent TLS to the proxy itself', { timeout: 60_000 }, () => {
  let loopPort = 0;
  const fx = e2eFixture({
    origins: { tls: httpsOrigin },
    proxies: {
      proxy: async () => {
        // The transparent listener's origin port is its own port: every SNI resolving to
        // 127.0.0.1 names the listener itself.
        loopPort = await refusedPort();
        return {
          mode: ['regular@127.0.0.1:0', `transparent@127.0.0.1:${loopPort}:${loopPort}`],
          resolve: ['*.self.test=127.0.0.1'],
          passthrough: ['pass.self.test'],
        };
      },
    },
  });
  const transparentPort = (): number => {
    const found = fx.proxy.proxy.addresses.find((l: ListenerInfo) => l.kind === 'transparent');
    assert.ok(found);
    assert.equal(found.port, loopPort);
    return found.port;
  };

  it('curl, a name resolving to the listener: 508 loop over a leaf minted for it (h2 and http/1.1), a tunnel event saying why', async () => {
    const port = transparentPort();
    for (const version of ['--http2', '--http1.1']) {
      const result = await curl([
        version,
        '--cacert',
        fx.proxy.caPath,
        '--connect-to',
        `api.self.test:${port}:127.0.0.1:${port}`,
        `https://api.self.test:${port}/loop${version}`,
      ]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.status, 508, result.stderr);
      assert.equal(result.headers['x-mitm-error'], 'loop');
      assert.match(result.text, /api\.self\.test:\d+ is this proxy itself/);
      const flow = await fx.proxy.flows.waitFor((f) => f.url.endsWith(`/loop${version}`));
      assert.equal(flow.error?.code, 'loop');
      assert.equal(flow.mode, 'transparent');
    }
    const tunnel = await fx.proxy.tunnels.waitFor((t) => t.host === 'api.self.test');
    assert.equal(tunnel.error?.code, 'loop');
  });

  it('curl, --passthrough for that name: answered 508 loop too, never piped back into the proxy', async () => {
    const port = transparentPort();
    const result = await curl([
      '--cacert',
      fx.proxy.caPath,
      '--connect-to',
      `pass.self.test:${port}:127.0.0.1:${port}`,
      `https://pass.self.test:${port}/passed`,
    ]);
    assert.equal(result.status, 508, result.stderr);
    assert.equal(result.headers['x-mitm-error'], 'loop');
    const tunnel = await fx.proxy.tunnels.waitFor((t) => t.host === 'pass.self.test');
    assert.equal(tunnel.error?.code, 'loop');
    assert.match(tunnel.reason, /--passthrough/);
  });

  it('curl, SNI localhost (our own address on our own port): 508 loop', async () => {
    const port = transparentPort();
    const result = await curl([
      '--cacert',
      fx.proxy.caPath,
      '--connect-to',
      `localhost:${port}:127.0.0.1:${port}`,
      `https://localhost:${port}/own-address`,
    ]);
    assert.equal(result.status, 508, result.stderr);
    assert.equal(result.headers['x-mitm-error'], 'loop');
  });

  it('Node https: every request on the connection is answered 508 loop', async () => {
    const port = transparentPort();
    const answers = await twoOnOneConnection(port, 'node.self.test', fx.proxy.caPem);
    for (const res of answers) {
      assert.equal(res.statusCode, 508);
      assert.equal(res.headers['x-mitm-error'], 'loop');
    }
  });

  it('Node http2 (ALPN h2): each stream answered 508 loop', async () => {
    const port = transparentPort();
    const session = http2.connect(`https://h2.self.test:${port}`, { host: '127.0.0.1', servername: 'h2.self.test', ca: fx.proxy.caPem });
    session.on('error', () => undefined);
    try {
      await within(once(session, 'connect'), 'the HTTP/2 session');
      assert.equal(session.alpnProtocol, 'h2');
      for (const path of ['/one', '/two']) {
        const res = await within(h2Request(session, { ':path': path }), `the answer to ${path}`);
        assert.equal(res.status, 508);
        assert.equal(res.headers['x-mitm-error'], 'loop');
      }
    } finally {
      session.close();
    }
  });

  it('the proxy keeps serving: a request through the regular listener reaches the origin', async () => {
    const regular = fx.proxy.proxy.addresses.find((l: ListenerInfo) => l.kind === 'regular');
    assert.ok(regular);
    const result = await curlVia(regular.address, [`https://localhost:${fx.tls.port}/hello`], fx.proxy.caPath);
    assert.equal(result.status, 200, result.stderr);
    assert.equal(result.text, 'hello');
  });
});

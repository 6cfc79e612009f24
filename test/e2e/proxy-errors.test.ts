import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { exchangeRaw, MitmAgent, openTunnel, send, sendViaProxy } from '../helpers/client.js';
import { curlVia, type CurlResult } from '../helpers/curl.js';
import { e2eFixture, httpOrigin, httpsOrigin, selfSignedOrigin, wrongNameOrigin } from '../helpers/fixture.js';
import { refusedPort } from '../helpers/listen.js';
import type { TestProxy } from '../helpers/proxy.js';

/** Asserts a proxy-made error response: status, `x-mitm-error`, and a one-line text body matching `body`. */
function assertProxyError(res: CurlResult, status: number, code: string, body: RegExp): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}${res.stderr}`);
  assert.equal(res.headers['x-mitm-error'], code);
  assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
  const text = res.text.trim();
  assert.match(text, body);
  assert.ok(!text.includes('\n'), `the error body must be one line: ${JSON.stringify(text)}`);
  assert.ok(!/\(\S+:\d+:\d+\)|node:internal/.test(text), 'the error body must not carry a stack trace');
}

// Everything that goes wrong: untrusted origins, dead ports, silent origins, broken clients.
describe('proxy: errors', { timeout: 30_000 }, () => {
  const fx = e2eFixture({
    origins: { good: httpsOrigin, plain: httpOrigin, selfSigned: selfSignedOrigin, wrongName: wrongNameOrigin },
    proxies: { mitm: {}, insecure: { insecure: true }, impatient: { upstreamTimeout: 300 } },
  });
  let dead: number;
  const agents: MitmAgent[] = [];
  fx.onClose(() => {
    for (const agent of agents) agent.destroy();
  });

  /** curl through `proxy` trusting its CA. */
  const via = (proxy: TestProxy, ...args: string[]): Promise<CurlResult> => curlVia(proxy.url, args, proxy.caPath);
  /** The proxy still answers an ordinary intercepted request. */
  const assertStillServing = async (): Promise<void> => {
    const res = await via(fx.mitm, `https://localhost:${fx.good.port}/hello`);
    assert.equal(res.status, 200, res.stderr);
    assert.equal(res.text, 'hello');
  };

  before(async () => {
    dead = await refusedPort();
  });

  it('answers 502 upstream_tls_verify for a self-signed origin, naming host:port', async () => {
    const res = await via(fx.mitm, `https://localhost:${fx.selfSigned.port}/hello`);
    assert.equal(res.connectStatus, 200, 'the failure must reach the client inside the tunnel');
    assertProxyError(
      res,
      502,
      'upstream_tls_verify',
      new RegExp(`certificate verification failed for localhost:${fx.selfSigned.port}\\b.*self-signed`, 'i'),
    );
    const flow = await fx.mitm.flows.waitFor((f) => f.url === `https://localhost:${fx.selfSigned.port}/hello`);
    assert.equal(flow.status, 502);
    assert.equal(flow.error?.code, 'upstream_tls_verify');

    const byIp = await via(fx.mitm, `https://127.0.0.1:${fx.selfSigned.port}/hello`);
    assertProxyError(byIp, 502, 'upstream_tls_verify', new RegExp(`127\\.0\\.0\\.1:${fx.selfSigned.port}\\b`));
    await assertStillServing();
  });

  it('answers 502 upstream_tls_verify when a trusted origin certificate names another host', async () => {
    const res = await via(fx.mitm, `https://localhost:${fx.wrongName.port}/hello`);
    assertProxyError(res, 502, 'upstream_tls_verify', new RegExp(`localhost:${fx.wrongName.port}\\b`));
  });

  it('answers 502 upstream_tls in one readable line when the origin speaks plain HTTP on an https:// URL', async () => {
    const res = await via(fx.mitm, `https://localhost:${fx.plain.port}/hello`);
    assertProxyError(
      res,
      502,
      'upstream_tls',
      new RegExp(`^TLS handshake with localhost:${fx.plain.port} failed: wrong version number — .*plain HTTP`),
    );
    assert.ok(!/ssl3_|\.c:\d+|routines/.test(res.text), `no OpenSSL internals in the body: ${JSON.stringify(res.text)}`);
    await assertStillServing();
  });

  it('reaches untrusted origins when started with insecure: true', async () => {
    const self = await via(fx.insecure, `https://localhost:${fx.selfSigned.port}/hello`);
    assert.equal(self.status, 200, self.text + self.stderr);
    assert.equal(self.text, 'hello');
    const wrong = await via(fx.insecure, `https://localhost:${fx.wrongName.port}/hello`);
    assert.equal(wrong.status, 200, wrong.text + wrong.stderr);
  });

  it('answers 502 upstream_refused for a closed port, over HTTP and inside a tunnel', async () => {
    const http = await via(fx.mitm, `http://127.0.0.1:${dead}/hello`);
    assertProxyError(http, 502, 'upstream_refused', new RegExp(`127\\.0\\.0\\.1:${dead}\\b`));
    // Without onRequest hooks the CONNECT itself tells the truth: it is answered once the origin is dialled.
    const https = await via(fx.mitm, `https://localhost:${dead}/hello`);
    assert.equal(https.connectStatus, 502, `the CONNECT is refused: ${https.stderr}`);
    assert.equal(https.headers['x-mitm-error'], 'upstream_refused');
    await assertStillServing();
  });

  it('answers 504 upstream_timeout when the origin sends no response head in time', async () => {
    // --max-time: should the proxy never answer, curl gives up with a readable error before the safety net.
    const http = await via(fx.impatient, '--max-time', '10', `http://127.0.0.1:${fx.plain.port}/slow-head`);
    assertProxyError(http, 504, 'upstream_timeout', new RegExp(`127\\.0\\.0\\.1:${fx.plain.port}\\b`));
    const https = await via(fx.impatient, '--max-time', '10', `https://localhost:${fx.good.port}/slow-head`);
    assertProxyError(https, 504, 'upstream_timeout', new RegExp(`localhost:${fx.good.port}\\b`));
    const after = await via(fx.impatient, `https://localhost:${fx.good.port}/hello`);
    assert.equal(after.text, 'hello');
  });

  it('answers 400 or closes on garbage bytes, then keeps serving', async () => {
    // Deterministic "random" bytes: a hash chain, so a failure reproduces.
    let block = createHash('sha256').update('garbage').digest();
    const chunks: Buffer[] = [];
    for (let i = 0; i < 32; i += 1) {
      chunks.push(block);
      block = createHash('sha256').update(block).digest();
    }
    const answer = await exchangeRaw(fx.mitm.port, Buffer.concat(chunks));
    if (answer.length > 0) assert.match(answer.toString('latin1'), /^HTTP\/1\.1 400 /);
    await assertStillServing();
  });

  it('answers 400 bad_request to an invalid request line, then keeps serving', async () => {
    const answer = (await exchangeRaw(fx.mitm.port, 'GET / HTTP/1.1 junk\r\n\r\n')).toString('latin1');
    if (answer.length > 0) {
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.match(answer, /\r\nx-mitm-error: bad_request\r\n/i);
    }
    const issue = await fx.mitm.clientIssues.waitFor((i) => i.code === 'bad_request');
    assert.equal(issue.client.address, '127.0.0.1');
    await assertStillServing();
  });

  it('answers 400 host_invalid to a CONNECT with an unusable target', async () => {
    for (const target of ['no-port.test', 'bad..host:443', 'bad!host:443', 'localhost:0', 'localhost:99999']) {
      const answer = (await exchangeRaw(fx.mitm.port, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)).toString('latin1');
      assert.match(answer, /^HTTP\/1\.1 400 /, `CONNECT ${target}`);
      assert.match(answer, /\r\nx-mitm-error: host_invalid\r\n/i, `CONNECT ${target}`);
    }
    await assertStillServing();
  });

  it('answers 508 (loop) to a request for the proxy itself', async () => {
    const res = await via(fx.mitm, `http://127.0.0.1:${fx.mitm.port}/`);
    assertProxyError(res, 508, 'loop', /itself/);
    const connect = (await exchangeRaw(fx.mitm.port, `CONNECT 127.0.0.1:${fx.mitm.port} HTTP/1.1\r\n\r\n`)).toString('latin1');
    assert.match(connect, /^HTTP\/1\.1 508 /);
  });

  it('answers 431 to a request head over 16 KiB, on the proxy port and inside a tunnel', async () => {
    const big = `x-big: ${'a'.repeat(20 * 1024)}`;
    const http = await via(fx.mitm, '-H', big, `http://127.0.0.1:${fx.plain.port}/echo`);
    assert.equal(http.status, 431, http.stderr);
    assert.equal(http.headers['x-mitm-error'], 'headers_too_large');

    const agent = new MitmAgent(fx.mitm.port, fx.mitm.proxy.caCertPem);
    agents.push(agent);
    const res = await send({ agent, host: 'localhost', port: fx.good.port, path: '/echo', headers: { 'x-big': 'b'.repeat(20 * 1024) } });
    assert.equal(res.status, 431);

    // Just under the limit passes (the origin accepts up to 1 MiB).
    const fits = await sendViaProxy(fx.mitm.port, `http://127.0.0.1:${fx.plain.port}/echo`, {
      headers: { 'x-fits': 'c'.repeat(12 * 1024) },
    });
    assert.equal(fits.status, 200);
    await assertStillServing();
  });

  it('reports a client that rejects the minted certificate as a client_tls issue', async () => {
    // Without --cacert curl does not trust the mitm CA and aborts the handshake (exit 60).
    const res = await curlVia(fx.mitm.url, [`https://localhost:${fx.good.port}/hello`]);
    assert.equal(res.exitCode, 60, res.stderr);
    const issue = await fx.mitm.clientIssues.waitFor((i) => i.code === 'client_tls');
    assert.equal(issue.host, 'localhost');
    await assertStillServing();
  });

  it('serves a tunnel whose first request comes after the handshake settled; closes one left without a request', async () => {
    // The proxy holds an intercepted HTTP/1.1 connection without an HTTP parser until its first
    // request byte (start.ts), then hands it over with that byte put back.
    const ca = await readFile(fx.mitm.caPath, 'utf8');
    const settled = async (): Promise<{ raw: Socket; tls: TLSSocket }> => {
      const tunnel = await openTunnel(fx.mitm.port, `localhost:${fx.good.port}`);
      assert.equal(tunnel.status, 200);
      const tls = tlsConnect({ socket: tunnel.socket, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      tls.on('error', () => undefined);
      // A TLS 1.3 server sends its session tickets once its side of the handshake is done: by
      // then the proxy waits for the first request. Node's TLS client must not write within the
      // turn that emits 'session' (a Node https origin then answers 408, or the next record
      // fails its MAC check), so the request goes out one turn later.
      await once(tls, 'session');
      await new Promise((resolve) => setImmediate(resolve));
      return { raw: tunnel.socket, tls };
    };
    const late = await settled();
    late.tls.write(`GET /hello HTTP/1.1\r\nhost: localhost:${fx.good.port}\r\nconnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of late.tls) chunks.push(chunk as Buffer);
    const answer = Buffer.concat(chunks).toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(answer.endsWith('\r\n\r\nhello'), answer);

    const reset = await settled();
    reset.raw.resetAndDestroy();
    await once(reset.tls, 'close');
    // A client that closes its side without a request gets the proxy's close at once, not after
    // the idle timeout (60 s; the suite's timeout is 30 s).
    const quiet = await settled();
    quiet.tls.end();
    await once(quiet.tls, 'close');
    await assertStillServing();
  });
});

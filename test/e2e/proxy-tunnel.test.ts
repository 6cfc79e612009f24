import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { before, describe, it } from 'node:test';
import { exchangeRaw, openTunnel, send } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { refusedPort } from '../helpers/listen.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import type { EchoBody } from '../helpers/origin.js';
import { leafViaSClient, opensslSubject } from '../helpers/tls-probe.js';

// CONNECT without decryption (passthrough / intercept globs) and CONNECT carrying plain HTTP.
describe('proxy: tunnels', { timeout: 30_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: httpsOrigin, plain: httpOrigin },
    proxies: {
      /** Default policy: intercept everything. */
      mitm: {},
      pass: { passthrough: ['localhost'] },
      interceptOther: { intercept: ['other.test'] },
      interceptLocal: { intercept: ['localhost'] },
    },
  });
  let testCaSubject: string;
  let originFingerprint: string;

  before(async () => {
    testCaSubject = await opensslSubject(fx.pki.ca.certPath);
    originFingerprint = new X509Certificate(fx.pki.origin.cert).fingerprint256;
  });

  it("passthrough: the client sees the origin's own certificate (openssl s_client)", async () => {
    const leaf = await leafViaSClient(fx.pass.port, `localhost:${fx.origin.port}`, 'localhost', fx.pki.dir, 'pass-leaf.pem');
    assert.equal(leaf.issuer, testCaSubject);
    assert.equal(leaf.x509.fingerprint256, originFingerprint);
    const tunnel = await fx.pass.tunnels.waitFor((t) => t.port === fx.origin.port);
    assert.equal(tunnel.host, 'localhost');
    assert.match(tunnel.reason, /passthrough.*localhost/);
    assert.equal(tunnel.error, undefined);
  });

  it('passthrough: curl trusting only the test CA gets through', async () => {
    const res = await curlVia(fx.pass.url, [`https://localhost:${fx.origin.port}/hello`], fx.pki.ca.certPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
  });

  it('passthrough: hosts that do not match are still intercepted', async () => {
    const leaf = await leafViaSClient(fx.pass.port, `127.0.0.1:${fx.origin.port}`, undefined, fx.pki.dir, 'pass-ip-leaf.pem');
    assert.equal(leaf.issuer, await opensslSubject(fx.pass.caPath));
    const res = await curlVia(fx.pass.url, [`https://127.0.0.1:${fx.origin.port}/hello`], fx.pass.caPath);
    assert.equal(res.text, 'hello', res.stderr);
  });

  it('intercept [other.test]: localhost is tunnelled untouched', async () => {
    const leaf = await leafViaSClient(fx.interceptOther.port, `localhost:${fx.origin.port}`, 'localhost', fx.pki.dir, 'other-leaf.pem');
    assert.equal(leaf.issuer, testCaSubject);
    assert.equal(leaf.x509.fingerprint256, originFingerprint);
    const res = await curlVia(fx.interceptOther.url, [`https://localhost:${fx.origin.port}/hello`], fx.pki.ca.certPath);
    assert.equal(res.text, 'hello', res.stderr);
    const tunnel = await fx.interceptOther.tunnels.waitFor((t) => t.host === 'localhost');
    assert.match(tunnel.reason, /intercept/);
  });

  it('intercept [localhost]: localhost is decrypted, 127.0.0.1 tunnelled', async () => {
    const decrypted = await curlVia(fx.interceptLocal.url, [`https://localhost:${fx.origin.port}/hello`], fx.interceptLocal.caPath);
    assert.equal(decrypted.text, 'hello', decrypted.stderr);
    await fx.interceptLocal.flows.waitFor((f) => f.url === `https://localhost:${fx.origin.port}/hello`);

    const tunnelled = await curlVia(fx.interceptLocal.url, [`https://127.0.0.1:${fx.origin.port}/hello`], fx.pki.ca.certPath);
    assert.equal(tunnelled.text, 'hello', tunnelled.stderr);
    const tunnel = await fx.interceptLocal.tunnels.waitFor((t) => t.host === '127.0.0.1');
    assert.match(tunnel.reason, /intercept/);
  });

  it('passthrough to a closed port: the CONNECT itself is answered 502 upstream_refused', async () => {
    const dead = await refusedPort();

    const res = await curlVia(fx.pass.url, [`https://localhost:${dead}/hello`], fx.pki.ca.certPath);
    assert.equal(res.connectStatus, 502, res.stderr);
    assert.notEqual(res.exitCode, 0);
    const raw = (await exchangeRaw(fx.pass.port, `CONNECT localhost:${dead} HTTP/1.1\r\nHost: localhost:${dead}\r\n\r\n`)).toString(
      'latin1',
    );
    assert.match(raw, /^HTTP\/1\.1 502 /);
    assert.match(raw, /\r\nx-mitm-error: upstream_refused\r\n/i);
    assert.match(raw, new RegExp(`localhost:${dead}\\b`));
    const tunnel = await fx.pass.tunnels.waitFor((t) => t.port === dead);
    assert.equal(tunnel.error?.code, 'upstream_refused');
  });

  it('treats non-TLS bytes after CONNECT as plain HTTP, with keep-alive', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `127.0.0.1:${fx.plain.port}`);
    assert.equal(tunnel.status, 200);
    const chunks: Buffer[] = [];
    tunnel.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = once(tunnel.socket, 'close');
    // Two pipelined requests on the one tunnel; the second asks to close it.
    tunnel.socket.write(
      `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${fx.plain.port}\r\n\r\n` +
        `GET /status?code=201 HTTP/1.1\r\nHost: 127.0.0.1:${fx.plain.port}\r\nConnection: close\r\n\r\n`,
    );
    await closed;
    const text = Buffer.concat(chunks).toString('latin1');
    // Either framing is fine: content-length or chunked.
    assert.match(text, /^HTTP\/1\.1 200 [\s\S]*?\r\n\r\n(hello|5\r\nhello\r\n0\r\n\r\n)HTTP\/1\.1 201 /);
    assert.match(text, /HTTP\/1\.1 201 [\s\S]*\r\n\r\n(status|6\r\nstatus\r\n0\r\n\r\n)$/);
    const flow = await fx.mitm.flows.waitFor((f) => f.url === `http://127.0.0.1:${fx.plain.port}/hello`);
    assert.equal(flow.status, 200);
  });

  it('sends requests inside a tunnel to the CONNECT target, whatever their Host header says', async () => {
    const tunnel = await openTunnel(fx.mitm.port, `127.0.0.1:${fx.plain.port}`);
    assert.equal(tunnel.status, 200);
    const res = await send({ createConnection: () => tunnel.socket, path: '/echo', headers: { host: 'elsewhere.invalid' } });
    assert.equal(res.status, 200, res.text);
    assert.equal((JSON.parse(res.text) as EchoBody).url, '/echo');
  });

  it('passthrough pipes non-TLS bytes to the origin untouched', async () => {
    const tunnel = await openTunnel(fx.pass.port, `localhost:${fx.plain.port}`);
    assert.equal(tunnel.status, 200);
    const res = await send({ createConnection: () => tunnel.socket, path: '/echo', headers: { host: 'raw', connection: 'close' } });
    const echo = JSON.parse(res.text) as EchoBody;
    // The origin sees the raw request, hop-by-hop fields and all: nothing parsed or rewrote it.
    assert.equal(echo.headers.connection, 'close');
    assert.equal(echo.headers.host, 'raw');
  });
});

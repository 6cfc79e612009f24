// --mode listeners side by side in one proxy: transparent (SNI / Host), reverse (http and https),
// dns; each flow says which kind of listener it came through.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { describe, it } from 'node:test';
import type { ListenerInfo } from '../../src/index.js';
import { connectRaw } from '../helpers/client.js';
import { curl } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { startDnsUpstream, type DnsUpstream } from '../helpers/dns-upstream.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import type { EchoBody } from '../helpers/origin.js';
import type { TestProxy } from '../helpers/proxy.js';

/** Writes `text` without half-closing (Node's HTTP server aborts a half-closed request) and reads until the proxy closes. */
async function askRaw(port: number, text: string): Promise<string> {
  const socket = await connectRaw(port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(text);
  await within(closed, `the answer to ${JSON.stringify(text.split('\r\n')[0])}`);
  return Buffer.concat(chunks).toString('latin1');
}

function listener(proxy: TestProxy, kind: ListenerInfo['kind']): ListenerInfo {
  const found = proxy.proxy.addresses.find((l) => l.kind === kind);
  assert.ok(found, `a ${kind} listener`);
  return found;
}

describe('proxy modes', { timeout: 90_000 }, () => {
  let upstream: DnsUpstream | undefined;
  const fx = e2eFixture({
    origins: { tls: httpsOrigin, plain: httpOrigin },
    proxies: {
      multi: async (_pki, origins) => {
        upstream = await startDnsUpstream({ 'elsewhere.test': [{ type: 'A', name: 'elsewhere.test', ttl: 321, data: '127.0.0.66' }] });
        return {
          passthrough: ['pass.localhost'],
          resolve: ['*.localhost=127.0.0.1'],
          intercept: ['localhost', '127.0.0.1', '*.localhost'],
          mode: [
            'regular@0',
            `transparent@127.0.0.1:0:${origins.tls.port}`,
            `reverse:https://localhost:${origins.tls.port}@127.0.0.1:0`,
            'dns@127.0.0.1:0',
          ],
          dnsUpstream: `127.0.0.1:${upstream.port}`,
        };
      },
      plainReverse: (_pki, origins) => ({ mode: [`reverse:http://127.0.0.1:${origins.plain.port}@127.0.0.1:0`] }),
    },
  });
  fx.onClose(() => upstream?.close());

  it('lists every listener, the regular one first as the proxy url', () => {
    const kinds = fx.multi.proxy.addresses.map((l) => l.kind);
    assert.deepEqual(kinds, ['regular', 'transparent', 'reverse', 'dns']);
    assert.equal(fx.multi.proxy.url, listener(fx.multi, 'regular').address);
  });

  it('transparent, TLS: routed by SNI to the origin port, intercepted and recorded as transparent', async () => {
    const t = listener(fx.multi, 'transparent');
    const result = await curl([
      '--cacert',
      fx.multi.caPath,
      '--connect-to',
      `localhost:${fx.tls.port}:127.0.0.1:${t.port}`,
      `https://localhost:${fx.tls.port}/echo?via=transparent`,
    ]);
    assert.equal(result.status, 200, result.stderr);
    const echo = JSON.parse(result.text) as EchoBody;
    assert.equal(echo.url, '/echo?via=transparent');
    const flow = await fx.multi.flows.waitFor((f) => f.url.endsWith('via=transparent'));
    assert.equal(flow.mode, 'transparent');
    assert.equal(flow.url, `https://localhost:${fx.tls.port}/echo?via=transparent`);
  });

  it('transparent, TLS from Node tls.connect with servername: intercepted (our leaf, verified), the origin answers', async () => {
    const t = listener(fx.multi, 'transparent');
    const socket = tlsConnect({ host: '127.0.0.1', port: t.port, servername: 'localhost', ca: fx.multi.caPem });
    socket.on('error', () => {});
    await within(once(socket, 'secureConnect'), 'the intercepted handshake');
    const issuer = new X509Certificate(socket.getPeerCertificate().raw).issuer;
    assert.notEqual(issuer, new X509Certificate(fx.pki.origin.cert).issuer, 'the leaf is ours, not the origin certificate');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = once(socket, 'close');
    socket.write(`GET /hello?via=node-tls HTTP/1.1\r\nHost: localhost:${fx.tls.port}\r\nConnection: close\r\n\r\n`);
    await within(closed, 'the answer over the intercepted connection');
    assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nhello$/);
    const flow = await fx.multi.flows.waitFor((f) => f.url.endsWith('via=node-tls'));
    assert.equal(flow.mode, 'transparent');
  });

  it('transparent, TLS under --passthrough: the client sees the origin certificate', async () => {
    const t = listener(fx.multi, 'transparent');
    const socket = tlsConnect({ host: '127.0.0.1', port: t.port, servername: 'pass.localhost', rejectUnauthorized: false });
    socket.on('error', () => {});
    await within(once(socket, 'secureConnect'), 'the passed-through handshake');
    const seen = new X509Certificate(socket.getPeerCertificate().raw);
    socket.destroy();
    assert.equal(seen.fingerprint256, new X509Certificate(fx.pki.origin.cert).fingerprint256);
    const tunnel = await fx.multi.tunnels.waitFor((r) => r.host === 'pass.localhost');
    assert.match(tunnel.reason, /--passthrough pass\.localhost/);
  });

  it('transparent, TLS without SNI: refused with a reason, and the proxy keeps serving', async () => {
    const t = listener(fx.multi, 'transparent');
    // An IP address as host: Node sends no SNI.
    const socket = tlsConnect({ host: '127.0.0.1', port: t.port, rejectUnauthorized: false });
    socket.on('error', () => {});
    await within(new Promise((resolve) => socket.once('close', resolve)), 'the proxy closes the connection');
    const issue = await fx.multi.clientIssues.waitFor((i) => /names no server \(SNI\)/.test(i.message));
    assert.equal(issue.code, 'client_tls');
    const again = await curl([
      '--cacert',
      fx.multi.caPath,
      '--connect-to',
      `localhost:${fx.tls.port}:127.0.0.1:${t.port}`,
      `https://localhost:${fx.tls.port}/hello`,
    ]);
    assert.equal(again.text, 'hello');
  });

  it('transparent, plain HTTP: routed by Host; no Host is a 400; our own address is a 508 loop', async () => {
    const t = listener(fx.multi, 'transparent');
    const ok = await askRaw(t.port, `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${fx.plain.port}\r\nConnection: close\r\n\r\n`);
    assert.match(ok, /^HTTP\/1\.1 200 /);
    assert.match(ok, /\r\n\r\nhello$/);
    const flow = await fx.multi.flows.waitFor((f) => f.url === `http://127.0.0.1:${fx.plain.port}/hello`);
    assert.equal(flow.mode, 'transparent');

    const noHost = await askRaw(t.port, 'GET /hello HTTP/1.0\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 400 /);
    assert.match(noHost, /x-mitm-error: bad_request/i);
    assert.match(noHost, /no Host header/);

    const loop = await askRaw(t.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nConnection: close\r\n\r\n`);
    assert.match(loop, /^HTTP\/1\.1 508 /);
    assert.match(loop, /x-mitm-error: loop/i);
  });

  it('reverse, https: the origin gets its own Host; the flow is recorded as reverse', async () => {
    const r = listener(fx.multi, 'reverse');
    const result = await curl(['--cacert', fx.multi.caPath, `https://localhost:${r.port}/echo?via=reverse`]);
    assert.equal(result.status, 200, result.stderr);
    const echo = JSON.parse(result.text) as EchoBody;
    assert.equal(echo.headers.host, `localhost:${fx.tls.port}`);
    const flow = await fx.multi.flows.waitFor((f) => f.url.endsWith('via=reverse'));
    assert.equal(flow.mode, 'reverse');
    assert.equal(flow.url, `https://localhost:${fx.tls.port}/echo?via=reverse`);
  });

  it('reverse, http: plain requests reach the plain origin', async () => {
    const r = listener(fx.plainReverse, 'reverse');
    const result = await curl([`http://127.0.0.1:${r.port}/echo?via=plain-reverse`]);
    assert.equal(result.status, 200, result.stderr);
    assert.equal((JSON.parse(result.text) as EchoBody).headers.host, `127.0.0.1:${fx.plain.port}`);
  });

  it('dns: intercepted names get the transparent address, others the upstream answer; then curl reaches the origin', async () => {
    const d = listener(fx.multi, 'dns');
    const t = listener(fx.multi, 'transparent');
    const resolver = new Resolver({ timeout: 5_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${d.port}`]);
    const [address] = await resolver.resolve4('api.localhost');
    assert.equal(address, '127.0.0.1');
    assert.deepEqual(await resolver.resolve4('elsewhere.test', { ttl: true }), [{ address: '127.0.0.66', ttl: 321 }]);
    await assert.rejects(resolver.resolve4('missing.test'), (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND');
    // A client that resolved through us connects to that address on the transparent port.
    const result = await curl([
      '--cacert',
      fx.multi.caPath,
      '--connect-to',
      `localhost:${fx.tls.port}:${address}:${t.port}`,
      `https://localhost:${fx.tls.port}/hello`,
    ]);
    assert.equal(result.text, 'hello', result.stderr);
  });
});

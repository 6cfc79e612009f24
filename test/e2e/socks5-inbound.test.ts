import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { before, describe, it } from 'node:test';
import { connectRaw } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { curl } from '../helpers/curl.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import { refusedPort } from '../helpers/listen.js';

/** Reads exactly `n` bytes from a raw socket (resolving early with what arrived if it closes). */
async function readBytes(socket: Socket, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const chunk = socket.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
      continue;
    }
    if (socket.readableEnded || socket.destroyed) break;
    await within(Promise.race([once(socket, 'readable'), once(socket, 'close')]), `${n} bytes from the proxy (${length} arrived)`);
  }
  return Buffer.concat(chunks);
}

/** Greets with no authentication and sends CONNECT to a domain name; resolves with the reply code. */
async function socksConnectReply(proxyPort: number, host: string, port: number, command = 0x01): Promise<number | undefined> {
  const socket = await connectRaw(proxyPort);
  socket.on('error', () => {});
  try {
    socket.write(Buffer.of(5, 1, 0));
    assert.deepEqual([...(await readBytes(socket, 2))], [5, 0]);
    const name = Buffer.from(host);
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    socket.write(Buffer.concat([Buffer.of(5, command, 0, 3, name.length), name, portBytes]));
    const reply = await readBytes(socket, 10);
    return reply[1];
  } finally {
    socket.destroy();
  }
}

// SOCKS5 on the proxy port: curl --proxy socks5h://, intercepted or passed through like CONNECT.
describe('proxy: SOCKS5 inbound', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: httpsOrigin, plain: httpOrigin },
    proxies: { mitm: {}, pass: { passthrough: ['localhost'] }, authed: { proxyAuth: ['sam:socks-secret'] } },
  });
  let deadPort: number;

  before(async () => {
    fx.mitm.proxy.use({ name: 'no-forbidden', onConnect: ({ host }) => (host === 'forbidden.test' ? 'reject' : undefined) });
    deadPort = await refusedPort();
  });

  it('intercepts HTTPS for curl --proxy socks5h:// with the mitm CA, on the HTTP proxy port', async () => {
    const url = `https://localhost:${fx.origin.port}/hello`;
    const res = await curl(['--proxy', `socks5h://127.0.0.1:${fx.mitm.port}`, '--cacert', fx.mitm.caPath, url]);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
    const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
    assert.equal(flow.status, 200);
    // The same port still speaks HTTP proxy.
    const viaHttp = await curl(['--proxy', fx.mitm.url, '--cacert', fx.mitm.caPath, url]);
    assert.equal(viaHttp.text, 'hello', viaHttp.stderr);
  });

  it('serves plain HTTP and IPv4 targets (socks5://, curl resolves the name itself)', async () => {
    const url = `http://127.0.0.1:${fx.plain.port}/hello`;
    const res = await curl(['--proxy', `socks5://127.0.0.1:${fx.mitm.port}`, url]);
    assert.equal(res.text, 'hello', res.stderr);
    await fx.mitm.flows.waitFor((f) => f.url === url && f.status === 200);
  });

  it("passthrough over SOCKS5: the client sees the origin's own certificate", async () => {
    // Trusting only the origin's real CA, curl gets through only if nothing re-signed the certificate.
    const res = await curl([
      '--proxy',
      `socks5h://127.0.0.1:${fx.pass.port}`,
      '--cacert',
      fx.pki.ca.certPath,
      `https://localhost:${fx.origin.port}/hello`,
    ]);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.text, 'hello');
    const tunnel = await fx.pass.tunnels.waitFor((t) => t.port === fx.origin.port);
    assert.match(tunnel.reason, /passthrough/);
  });

  it('answers RFC 1928 reply codes: refused, not allowed, command not supported', async () => {
    assert.equal(await socksConnectReply(fx.pass.port, 'localhost', deadPort), 0x05);
    const tunnel = await fx.pass.tunnels.waitFor((t) => t.port === deadPort);
    assert.equal(tunnel.error?.code, 'upstream_refused');
    assert.equal(await socksConnectReply(fx.mitm.port, 'forbidden.test', 443), 0x02);
    assert.equal(await socksConnectReply(fx.mitm.port, 'localhost', fx.origin.port, 0x02), 0x07);
    assert.equal(await socksConnectReply(fx.mitm.port, '127.0.0.1', fx.mitm.port), 0x02, 'a loop to the proxy itself');
  });

  it('with --proxy-auth: username/password is required, and flows carry the user', async () => {
    const url = `https://localhost:${fx.origin.port}/hello`;
    const ok = await curl(['--proxy', `socks5h://sam:socks-secret@127.0.0.1:${fx.authed.port}`, '--cacert', fx.authed.caPath, url]);
    assert.equal(ok.text, 'hello', ok.stderr);
    const flow = await fx.authed.flows.waitFor((f) => f.url === url);
    assert.equal(flow.client.user, 'sam');
    const recorded = fx.authed.proxy.flows.find((f) => f.request.url === url);
    assert.equal(recorded?.client.user, 'sam');

    const wrong = await curl(['--proxy', `socks5h://sam:nope@127.0.0.1:${fx.authed.port}`, '--cacert', fx.authed.caPath, url]);
    assert.notEqual(wrong.exitCode, 0);
    assert.equal(wrong.status, 0);

    // A client offering only "no authentication" is told no method is acceptable (0xFF).
    const socket = await connectRaw(fx.authed.port);
    socket.write(Buffer.of(5, 1, 0));
    assert.deepEqual([...(await readBytes(socket, 2))], [5, 0xff]);
    socket.destroy();
  });
});

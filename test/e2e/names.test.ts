// Issue 16, Names: host names a client supplies through SNI (regular CONNECT tunnels, transparent
// and reverse listeners) and Host (transparent, reverse with --keep-host) are validated before
// anything is minted, dialled or logged. A bad one is refused cleanly and the proxy keeps serving.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import type { ClientIssue } from '../../src/index.js';
import { captureClientHello } from '../helpers/client-hello.js';
import { exchangeRaw, openTunnel, sendViaProxy } from '../helpers/client.js';
import { TextReader, within } from '../helpers/deadline.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import { Recorder } from '../helpers/proxy.js';

const PLACEHOLDER = 'placeholder.test';
// Same length as the placeholder, so the ClientHello's length fields stay right.
const BAD_NAMES = ['evil/../a.b.test', 'evil\u0007name.xxtest', 'evil name..test.'.slice(0, PLACEHOLDER.length)];

const fx = e2eFixture({
  origins: { plain: httpOrigin, secure: httpsOrigin },
  proxies: {
    regular: {},
    transparent: (_pki, origins) => ({ mode: [`regular@0`, `transparent@127.0.0.1:0:${origins.secure.port}`] }),
    reverse: (_pki, origins) => ({ mode: [`reverse:${origins.plain.url}@127.0.0.1:0`], keepHost: true }),
  },
});

/** A real ClientHello whose SNI is `name` (byte for byte, control characters included). */
async function helloFor(name: string): Promise<Buffer> {
  assert.equal(name.length, PLACEHOLDER.length);
  const hello = await captureClientHello(PLACEHOLDER);
  const at = hello.indexOf(PLACEHOLDER, 0, 'latin1');
  assert.ok(at > 0);
  return Buffer.concat([hello.subarray(0, at), Buffer.from(name, 'latin1'), hello.subarray(at + name.length)]);
}

function issuesOf(proxy: { on(event: 'client-issue', fn: (issue: ClientIssue) => void): unknown }): Recorder<ClientIssue> {
  const seen = new Recorder<ClientIssue>();
  proxy.on('client-issue', (issue) => seen.push(issue));
  return seen;
}

/** Asserts a logged message carries no control characters (a name must not reach a terminal raw). */
function printable(message: string): void {
  assert.ok(!/\p{Cc}/u.test(message), `raw control character in ${JSON.stringify(message)}`);
}

describe('names from clients are validated before use', () => {
  for (const name of BAD_NAMES) {
    test(`SNI ${JSON.stringify(name)} inside a CONNECT tunnel: handshake refused, reported, proxy serves on`, async () => {
      const issues = issuesOf(fx.regular.proxy);
      const tunnel = await openTunnel(fx.regular.port, `localhost:${fx.secure.port}`);
      tunnel.socket.on('error', () => {});
      const reader = new TextReader(tunnel.socket);
      tunnel.socket.write(await helloFor(name));
      await reader.ended();
      const issue = await issues.waitFor((i) => i.code === 'client_tls');
      printable(issue.message);
      assert.equal((await sendViaProxy(fx.regular.port, `${fx.plain.url}/hello`)).status, 200);
    });

    test(`SNI ${JSON.stringify(name)} on a transparent listener: closed, reported, not dialled`, async () => {
      const issues = issuesOf(fx.transparent.proxy);
      const listener = fx.transparent.proxy.addresses.find((a) => a.kind === 'transparent');
      assert.ok(listener);
      const answer = await within(exchangeRaw(listener.port, await helloFor(name)), 'the refusal');
      assert.equal(answer.length, 0);
      const issue = await issues.waitFor(() => true);
      assert.equal(issue.code, 'client_tls');
      assert.match(issue.message, /host|name/i);
      printable(issue.message);
      assert.equal(fx.transparent.tunnels.items.length, 0);
    });
  }

  test('a Host with a space on a transparent listener is answered 400 host_invalid', async () => {
    const listener = fx.transparent.proxy.addresses.find((a) => a.kind === 'transparent');
    assert.ok(listener);
    const answer = (await within(exchangeRaw(listener.port, 'GET / HTTP/1.1\r\nhost: bad host.test\r\n\r\n'), 'the 400')).toString();
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /x-mitm-error: host_invalid/);
  });

  test('a Host with a space on a reverse listener with --keep-host is answered 400, not sent on', async () => {
    const listener = fx.reverse.proxy.addresses.find((a) => a.kind === 'reverse');
    assert.ok(listener);
    const socket = connect(listener.port, '127.0.0.1');
    await within(once(socket, 'connect'), 'the connection');
    const reader = new TextReader(socket);
    socket.write('GET / HTTP/1.1\r\nhost: bad host.test\r\n\r\n');
    const answer = await reader.until('\n\r\n');
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /x-mitm-error: host_invalid/);
    assert.equal(fx.reverse.flows.items.filter((f) => f.status === 200).length, 0);
  });

  test('a Host that turns malformed on a keep-alive connection after a good one is answered 400', async () => {
    // The proxy validates a connection's Host once while it stays the same: a new one is parsed again.
    const listener = fx.reverse.proxy.addresses.find((a) => a.kind === 'reverse');
    assert.ok(listener);
    const socket = connect(listener.port, '127.0.0.1');
    await within(once(socket, 'connect'), 'the connection');
    const reader = new TextReader(socket);
    socket.write('HEAD /hello HTTP/1.1\r\nhost: good.test\r\n\r\n');
    const first = await reader.until('\n\r\n');
    assert.match(first, /^HTTP\/1\.1 200 /);
    socket.write('HEAD /hello HTTP/1.1\r\nhost: good.test\r\n\r\nGET / HTTP/1.1\r\nhost: bad host.test\r\n\r\n');
    const all = await reader.until('x-mitm-error: host_invalid');
    socket.destroy();
    const answers = all.split(/(?=^HTTP\/1\.1 )/m).map((answer) => answer.slice(0, 12));
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400']);
  });
});

// Breakpoints in the library (proxy.breakpoints, the 'held' event): real curl clients through a
// real proxy to a real HTTPS origin that reports what it received.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Stream, constants, type OutgoingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import type { HeldFlow, RunningProxy } from '../../src/index.js';
import WebSocket from 'ws';
import { CliProcess } from '../helpers/cli-process.js';
import { openTlsTunnel } from '../helpers/client.js';
import { curlVia, type CurlResult } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { h2ViaProxy } from '../helpers/h2-client.js';
import { editEcho } from '../helpers/edit-echo.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import type { TestProxy } from '../helpers/proxy.js';

/** The next flow the proxy holds. */
function nextHeld(proxy: RunningProxy): Promise<HeldFlow> {
  return within(new Promise<HeldFlow>((resolve) => proxy.once('held', resolve)), 'a held flow');
}

describe('breakpoints (library)', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: customOrigin(editEcho, { secure: true }) },
    proxies: { mitm: {}, short: { breakTimeout: 300 } },
  });
  const through = (mitm: TestProxy, path: string, extra: string[] = []): Promise<CurlResult> =>
    curlVia(mitm.url, [`${fx.origin.url}${path}`, ...extra], mitm.caPath);

  it('holds a matching request until resumed, with method, URL, headers and body edited', async () => {
    const { proxy } = fx.mitm;
    const rule = proxy.breakpoints.add({ filter: 'path:/hold*' });
    try {
      assert.deepEqual(proxy.breakpoints.list(), [{ id: rule, filter: 'path:/hold*', on: 'request' }]);
      const held = nextHeld(proxy);
      const answer = through(fx.mitm, '/hold/a', ['-X', 'POST', '--data-binary', 'original']);
      const hold = await held;
      assert.equal(hold.phase, 'request');
      assert.equal(hold.rule, rule);
      assert.equal(hold.body?.toString(), 'original');
      assert.equal(proxy.breakpoints.held().length, 1);
      const before = fx.origin.requestCount();
      hold.resume({
        method: 'PUT',
        url: `${fx.origin.url}/edited?x=1`,
        headers: { ...hold.flow.request.headers, 'x-edit': 'from-test' },
        body: 'changed',
      });
      const result = await answer;
      assert.equal(result.status, 200);
      assert.deepEqual(JSON.parse(result.text), { method: 'PUT', path: '/edited?x=1', edit: 'from-test', body: 'changed' });
      assert.equal(fx.origin.requestCount(), before + 1);
      assert.equal(proxy.breakpoints.held().length, 0);
      assert.throws(() => hold.resume(), { code: 'breakpoint_not_held' });
    } finally {
      proxy.breakpoints.remove(rule);
    }
  });

  it('lets unmatched flows through, and refuses a bad filter or a bad edit', async () => {
    const { proxy } = fx.mitm;
    assert.throws(() => proxy.breakpoints.add({ filter: 'status:>>' }), { code: 'filter_invalid' });
    proxy.breakpoints.add({ filter: 'path:/only-this' });
    try {
      const free = await through(fx.mitm, '/other');
      assert.equal(free.status, 200);
      const held = nextHeld(proxy);
      const answer = through(fx.mitm, '/only-this');
      const hold = await held;
      assert.throws(() => hold.resume({ method: 'GE T' }), { code: 'breakpoint_edit_invalid' });
      assert.throws(() => hold.resume({ url: 'ftp://x/' }), { code: 'breakpoint_edit_invalid' });
      assert.throws(() => hold.resume({ status: 201 }), { code: 'breakpoint_edit_invalid' });
      assert.throws(() => hold.resume({ headers: { 'x-bad': 'a\r\nb' } }), { code: 'breakpoint_edit_invalid' });
      hold.resume();
      assert.equal((await answer).status, 200);
    } finally {
      proxy.breakpoints.clear();
    }
    assert.deepEqual(proxy.breakpoints.list(), []);
  });

  it('abort answers 502 breakpoint_aborted in one line; the origin never sees it', async () => {
    const { proxy } = fx.mitm;
    proxy.breakpoints.add({ filter: 'path:/abort' });
    try {
      const held = nextHeld(proxy);
      const before = fx.origin.requestCount();
      const answer = through(fx.mitm, '/abort');
      (await held).abort();
      const result = await answer;
      assert.equal(result.status, 502);
      assert.equal(result.headers['x-mitm-error'], 'breakpoint_aborted');
      assert.match(result.text, /^GET https:\/\/localhost:\d+\/abort was held at a breakpoint \(request\) and aborted\n$/);
      assert.equal(fx.origin.requestCount(), before);
    } finally {
      proxy.breakpoints.clear();
    }
  });

  it('answer() replies with a mock, without contacting the origin', async () => {
    const { proxy } = fx.mitm;
    proxy.breakpoints.add({ filter: 'path:/mock' });
    try {
      const held = nextHeld(proxy);
      const before = fx.origin.requestCount();
      const answer = through(fx.mitm, '/mock');
      (await held).answer({ status: 418, headers: { 'x-mock': '1' }, body: 'teapot' });
      const result = await answer;
      assert.equal(result.status, 418);
      assert.equal(result.headers['x-mock'], '1');
      assert.equal(result.text, 'teapot');
      assert.equal(fx.origin.requestCount(), before);
    } finally {
      proxy.breakpoints.clear();
    }
  });

  it('holds a response: status, headers and body edited before the client gets it', async () => {
    const { proxy } = fx.mitm;
    proxy.breakpoints.add({ filter: 'path:/resp', on: 'response' });
    try {
      const held = nextHeld(proxy);
      const released = within(new Promise((resolve) => proxy.once('released', resolve)), 'a released event');
      const answer = through(fx.mitm, '/resp');
      const hold = await held;
      assert.equal(hold.phase, 'response');
      assert.equal(hold.flow.response?.status, 200);
      assert.equal(JSON.parse(hold.body?.toString() ?? '{}').path, '/resp');
      const headers: Record<string, string | string[]> = { ...hold.flow.response?.headers, 'x-edited': 'yes' };
      delete headers['x-origin'];
      hold.resume({ status: 203, headers, body: 'rewritten' });
      const result = await answer;
      assert.equal(result.status, 203);
      assert.equal(result.headers['x-edited'], 'yes');
      assert.equal(result.headers['x-origin'], undefined);
      assert.equal(result.text, 'rewritten');
      assert.deepEqual(await released, { flowId: hold.flow.id, phase: 'response', outcome: 'resumed' });
    } finally {
      proxy.breakpoints.clear();
    }
  });

  it('a flow nobody releases times out with 504 breakpoint_timeout', async () => {
    const { proxy } = fx.short;
    proxy.breakpoints.add({ filter: '' });
    const held = nextHeld(proxy);
    const released = within(new Promise((resolve) => proxy.once('released', resolve)), 'a released event');
    const result = await through(fx.short, '/slow');
    assert.equal(result.status, 504);
    assert.equal(result.headers['x-mitm-error'], 'breakpoint_timeout');
    assert.match(result.text, /not released within 300 ms \(--break-timeout\)\n$/);
    const hold = await held;
    assert.ok(hold.deadline - hold.heldAt === 300);
    assert.deepEqual(await released, { flowId: hold.flow.id, phase: 'request', outcome: 'timeout' });
    const flow = await proxy.waitForFlow((candidate) => candidate.id === hold.flow.id);
    assert.equal(flow.error?.code, 'breakpoint_timeout');
  });

  /**
   * Sends a request with `send`, waits for the proxy to hold it, leaves with `leave`, and checks that
   * the flow is released as client_gone; returns the held flow.
   */
  const leaveWhileHeld = async (send: () => void, leave: () => void): Promise<HeldFlow> => {
    const { proxy } = fx.mitm;
    const held = nextHeld(proxy);
    send();
    const hold = await held;
    const release = within(new Promise((resolve) => proxy.once('released', resolve)), 'a released event');
    leave();
    assert.deepEqual(await release, { flowId: hold.flow.id, phase: 'request', outcome: 'client_gone' });
    return hold;
  };
  /** The same over HTTP/1.1 in a tunnel: `head` is written, then the socket is destroyed. */
  const leaveH1WhileHeld = async (head: string): Promise<HeldFlow> => {
    const authority = new URL(fx.origin.url).host;
    const socket = await openTlsTunnel(fx.mitm.port, authority, { ca: fx.mitm.caPem, servername: 'localhost' });
    return leaveWhileHeld(
      () => socket.write(`${head}Host: ${authority}\r\n\r\n`),
      () => socket.destroy(),
    );
  };
  /** The same over HTTP/2: a stream with `headers` is opened, then cancelled. */
  const leaveH2WhileHeld = async (headers: OutgoingHttpHeaders): Promise<void> => {
    const session = await h2ViaProxy(fx.mitm.port, new URL(fx.origin.url).host, fx.mitm.caPem);
    try {
      if (!session.remoteSettings.enableConnectProtocol) await within(once(session, 'remoteSettings'), "the proxy's SETTINGS");
      let stream: ClientHttp2Stream | undefined;
      await leaveWhileHeld(
        () => {
          stream = session.request(headers);
          stream.on('error', () => undefined);
        },
        () => stream?.close(constants.NGHTTP2_CANCEL),
      );
    } finally {
      session.close();
    }
  };

  it('a client that goes away while held (HTTP/1.1 socket closed, HTTP/2 stream cancelled) releases the flow as client_gone; the origin never sees it', async () => {
    const { proxy } = fx.mitm;
    proxy.breakpoints.add({ filter: 'path:/gone*', on: 'both' });
    try {
      const before = fx.origin.requestCount();
      const hold = await leaveH1WhileHeld('GET /gone-h1 HTTP/1.1\r\n');
      assert.equal(hold.flow.signal.aborted, true);
      const record = await proxy.waitForFlow((candidate) => candidate.id === hold.flow.id);
      assert.deepEqual([record.response, record.incomplete, record.error], [undefined, true, undefined]);
      assert.throws(() => hold.resume(), { code: 'breakpoint_not_held' });
      await leaveH2WhileHeld({ ':path': '/gone-h2' });
      assert.deepEqual(proxy.breakpoints.held(), []);
      assert.equal(fx.origin.requestCount(), before);
    } finally {
      proxy.breakpoints.clear();
    }
  });

  it('a WebSocket handshake held at a breakpoint is released as client_gone when its client leaves (HTTP/1.1 upgrade, HTTP/2 extended CONNECT)', async () => {
    const { proxy } = fx.mitm;
    proxy.breakpoints.add({ filter: 'path:/gone-ws*', on: 'request' });
    try {
      const before = fx.origin.requestCount();
      const hold = await leaveH1WhileHeld(
        'GET /gone-ws1 HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n',
      );
      const record = await proxy.waitForFlow((candidate) => candidate.id === hold.flow.id);
      assert.deepEqual([record.response, record.incomplete, record.error], [undefined, true, undefined]);
      await leaveH2WhileHeld({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': '/gone-ws2',
        ':scheme': 'https',
        ':authority': new URL(fx.origin.url).host,
        'sec-websocket-version': '13',
      });
      assert.deepEqual(proxy.breakpoints.held(), []);
      assert.equal(fx.origin.requestCount(), before);
    } finally {
      proxy.breakpoints.clear();
    }
  });
});

describe('breakpoints: close() and options', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: customOrigin(editEcho, { secure: true }) },
    proxies: { mitm: { break: ['path:/at-start'] } },
  });

  it('rules given as options hold from the start; close() lets held flows go on', async () => {
    const { proxy } = fx.mitm;
    assert.deepEqual(proxy.breakpoints.list(), [{ id: 1, filter: 'path:/at-start', on: 'request' }]);
    const held = nextHeld(proxy);
    const answer = curlVia(fx.mitm.url, [`${fx.origin.url}/at-start`], fx.mitm.caPath);
    await held;
    await proxy.close({ graceful: true });
    const result = await answer;
    assert.equal(result.status, 200);
    assert.equal(JSON.parse(result.text).path, '/at-start');
  });
});

describe('mitm start --break', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ origins: { origin: customOrigin(editEcho, { secure: true }) } });

  it('refuses --break without --ui, and a bad filter, naming the flag (exit 2)', async () => {
    const alone = new CliProcess(['start', '--port', '0', '--ca', `${fx.pki.dir}/cli-ca`, '--break', 'path:/x']);
    // A generous deadline: the CLI starts from source through tsx, slow on a busy machine.
    const exit = await within(alone.exited, 'mitm start --break to exit', 30_000);
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /--break holds flows for the web inspector: add --ui/);
    const bad = new CliProcess(['start', '--port', '0', '--ca', `${fx.pki.dir}/cli-ca`, '--ui', '--break-response', 'status:>>']);
    const badExit = await within(bad.exited, 'mitm start --break-response with a bad filter to exit', 30_000);
    assert.equal(badExit.code, 2);
    assert.match(badExit.stderr, /--break-response "status:>>": invalid filter at column/);
  });

  it('holds what --break matches until it is resumed through the inspector API', async () => {
    const ca = `${fx.pki.dir}/cli-ca`;
    const cli = new CliProcess([
      'start',
      '--port',
      '0',
      '--ca',
      ca,
      '--upstream-ca',
      fx.pki.ca.certPath,
      '--ui',
      '--ui-port',
      '0',
      '--break',
      'path:/cli-held',
    ]);
    try {
      const port = await cli.listeningPort();
      const [, url = ''] = await cli.waitForLine('stderr', /^inspector: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/);
      const ui = new URL(url);
      const auth = { authorization: `Bearer ${ui.searchParams.get('token')}` };
      const ws = new WebSocket(`ws://${ui.host}/api/v1/push`, { headers: { ...auth, origin: ui.origin } });
      const pushed = within(
        new Promise<Array<{ flowId: number }>>((resolve) =>
          ws.on('message', (data) => {
            const message = JSON.parse(String(data)) as { type: string; state?: { held: Array<{ flowId: number }> } };
            if (message.type === 'breakpoints' && (message.state?.held.length ?? 0) > 0) resolve(message.state?.held ?? []);
          }),
        ),
        'the held flow pushed to the inspector',
      ).finally(() => ws.terminate());
      const answer = curlVia(`http://127.0.0.1:${port}`, [`${fx.origin.url}/cli-held`], `${ca}/ca.pem`);
      const held = await pushed;
      assert.equal(held.length, 1, 'one flow held');
      const resumed = await fetch(`${ui.origin}/api/v1/held/${held[0]?.flowId}/resume`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${fx.origin.url}/cli-edited` }),
      });
      assert.equal(resumed.status, 204);
      const result = await answer;
      assert.equal(JSON.parse(result.text).path, '/cli-edited');
    } finally {
      await cli.kill();
    }
  });
});

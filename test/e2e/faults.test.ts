// Faults from issue #16 not covered elsewhere (already covered: a reset mid-body in
// stream-errors.test.ts, the 504 in proxy-errors.test.ts, a 64 MiB slow reader and abandoned
// downloads in proxy-https.test.ts, garbage requests in proxy-errors.test.ts). Each provokes the
// fault over real sockets, and the suite checks that nothing leaks: the proxy's connection count,
// this process's fds and active resources are back at their baseline at the end.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ClientRefusal } from '../../src/index.js';
import { MitmAgent, sendViaProxy } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture, httpsOrigin } from '../helpers/fixture.js';
import { listenLocal } from '../helpers/listen.js';
import { bigSha256 } from '../helpers/origin.js';
import { slowDownload } from '../helpers/slow-reader.js';
import { until } from '../helpers/until.js';

const TEST = { timeout: 60_000 };

/** Origin-side events the tests wait for, by request path. */
const seen = new Map<string, { req: IncomingMessage; res: ServerResponse }>();
const arrivals = new (class {
  readonly #waiters = new Map<string, (v: { req: IncomingMessage; res: ServerResponse }) => void>();
  arrived(path: string, req: IncomingMessage, res: ServerResponse): void {
    seen.set(path, { req, res });
    this.#waiters.get(path)?.({ req, res });
  }
  wait(path: string): Promise<{ req: IncomingMessage; res: ServerResponse }> {
    const already = seen.get(path);
    if (already) return Promise.resolve(already);
    return within(new Promise((resolve) => this.#waiters.set(path, resolve)), `the origin to receive ${path}`);
  }
})();

function originHandler(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  arrivals.arrived(path, req, res);
  if (path === '/short') {
    // Promises 5000 bytes, sends 100, then closes its side cleanly (FIN, no reset).
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5000' });
    res.write('s'.repeat(100), () => res.socket?.end());
  } else if (path === '/upload') {
    req.resume();
  } else if (path === '/endless') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const block = Buffer.alloc(64 * 1024, 0x65);
    const pump = (): void => {
      while (!res.destroyed && res.write(block));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  } else if (path === '/never') {
    // Never answers: the proxy's upstream timeout must.
  } else {
    res.end('ok');
  }
}

const fx = e2eFixture({
  origins: { plain: customOrigin(originHandler), secure: customOrigin(originHandler, { secure: true }), big: httpsOrigin },
  proxies: { mitm: {}, impatient: { upstreamTimeout: 1_000 } },
});

let malformed: { port: number; close(): Promise<void> };
let baseline: { fds: number; resources: number };

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

before(async () => {
  // An origin that answers every request with a head no HTTP parser accepts.
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 two hundred OK\r\nContent-Length: nope\r\n\x00\r\n\r\n'));
  });
  malformed = await listenLocal(server);
  baseline = { fds: fdCount(), resources: process.getActiveResourcesInfo().length };
});
after(() => malformed.close());

/** Sends a plain-HTTP request through `port` and resolves with the client's view: status, bytes, how it ended. */
function fetchRaw(port: number, url: string): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
      res.once('error', () => undefined);
    });
    req.once('error', reject);
    req.end();
  });
}

describe('faults', () => {
  it('origin closes early with a short body: the client sees the cut, the flow is incomplete', TEST, async () => {
    const url = `${fx.plain.url}/short`;
    const got = await within(fetchRaw(fx.mitm.port, url), 'the cut-off response');
    assert.equal(got.status, 200);
    assert.equal(got.complete, false);
    assert.ok(got.bytes < 5000, `${got.bytes} bytes`);
    const flow = await fx.mitm.proxy.waitForFlow((f) => f.request.url === url, { timeout: 10_000 });
    assert.equal(flow.incomplete, true);
    // The same inside an intercepted tunnel.
    const agent = new MitmAgent(fx.mitm.port, fx.mitm.caPem, { keepAlive: false });
    try {
      const secure = await new Promise<{ complete: boolean; bytes: number }>((resolve, reject) => {
        const req = request({ agent, host: 'localhost', port: fx.secure.port, path: '/short' }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.once('error', () => undefined);
          res.once('close', () => resolve({ complete: res.complete, bytes }));
        });
        req.once('error', reject);
        req.end();
      });
      assert.equal(secure.complete, false);
      assert.ok(secure.bytes < 5000);
    } finally {
      agent.destroy();
    }
  });

  it('origin never answers: 504 after the timeout, and the origin connection is closed', TEST, async () => {
    const url = `${fx.plain.url}/never`;
    const answer = await within(sendViaProxy(fx.impatient.port, url), 'the 504');
    assert.equal(answer.status, 504);
    assert.equal(answer.headers['x-mitm-error'], 'upstream_timeout');
    const { req } = await arrivals.wait('/never');
    // The proxy gave up on that origin request: its connection to the origin is freed, not pooled busy.
    if (!req.socket.destroyed) await within(once(req.socket, 'close'), 'the origin-side connection to close');
  });

  it('origin sends a malformed head: 502, and the proxy keeps serving', TEST, async () => {
    const answer = await within(sendViaProxy(fx.mitm.port, `http://127.0.0.1:${malformed.port}/x`), 'the 502');
    assert.equal(answer.status, 502);
    assert.match(String(answer.headers['x-mitm-error']), /^upstream_/);
    // It did answer, with bytes that are not HTTP: the message must not say it closed without one.
    assert.match(
      answer.text.trimEnd(),
      new RegExp(`^127\\.0\\.0\\.1:${malformed.port} sent a response that is not valid HTTP/1\\.1 \\(.+\\)$`),
    );
    assert.equal((await sendViaProxy(fx.mitm.port, `${fx.plain.url}/ok`)).text, 'ok');
  });

  it('client aborts mid-upload: the origin request is aborted too', TEST, async () => {
    const socket = connect(fx.mitm.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const authority = `localhost:${fx.plain.port}`;
    socket.write(`POST http://${authority}/upload HTTP/1.1\r\nhost: ${authority}\r\ncontent-length: 10000000\r\n\r\n`);
    socket.write(Buffer.alloc(256 * 1024, 0x75));
    const { req } = await arrivals.wait('/upload');
    // once() rejects on 'error': Node's server reports the peer's abort as an 'aborted' error.
    const ended = once(req, 'end').then(
      () => 'end',
      (error: Error) => (error.message === 'aborted' ? 'aborted' : `error ${error.message}`),
    );
    const closed = once(req, 'close').then(() => (req.complete ? 'complete' : 'aborted'));
    socket.destroy();
    assert.equal(await within(Promise.race([ended, closed]), 'the origin request to end or abort'), 'aborted');
  });

  it('client vanishes mid-download: the origin side is closed', TEST, async () => {
    const socket = connect(fx.mitm.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const authority = `localhost:${fx.plain.port}`;
    socket.write(`GET http://${authority}/endless HTTP/1.1\r\nhost: ${authority}\r\n\r\n`);
    await within(once(socket, 'data'), 'the first bytes of the download');
    const { res } = await arrivals.wait('/endless');
    const closed: Promise<unknown> = res.destroyed ? Promise.resolve() : once(res, 'close');
    socket.destroy();
    await within(closed, 'the origin response to be closed');
    assert.equal(res.writableFinished, false, 'the endless body never finished: it was cut, not drained');
  });

  it('a slow reader of a 200 MiB download keeps memory flat (backpressure)', { timeout: 180_000 }, async (t) => {
    const bytes = 200 * 2 ** 20;
    const via = new MitmAgent(fx.mitm.port, fx.mitm.caPem, { maxSockets: 1 });
    try {
      const result = await slowDownload(
        fx.big,
        () => {
          const req = request({ agent: via, host: 'localhost', port: fx.big.port, path: `/big?bytes=${bytes}` });
          req.end();
          return req;
        },
        () => sendViaProxy(fx.mitm.port, `${fx.plain.url}/ok`),
      );
      const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
      t.diagnostic(`rounds ${result.rounds}, max in flight ${mib(result.maxInFlight)}, peak rss growth ${mib(result.peakRssGrowth)}`);
      assert.equal(result.received, bytes);
      assert.equal(result.sha256, bigSha256(bytes));
      assert.ok(result.rounds >= 1, 'backpressure never reached the origin');
      // Proxy, origin and client share this process: a proxy that buffered would add ~200 MiB.
      assert.ok(result.peakRssGrowth < 80 * 2 ** 20, `rss grew by ${mib(result.peakRssGrowth)}`);
    } finally {
      via.destroy();
    }
  });

  it('10 000 connections opened and dropped, in batches under the connection cap: fds back to the baseline', {
    timeout: 180_000,
  }, async () => {
    const before = fdCount();
    const refused: ClientRefusal[] = [];
    const onRefused = (refusal: ClientRefusal): void => {
      refused.push(refusal);
    };
    fx.mitm.proxy.on('client-refused', onRefused);
    const total = 10_000;
    // The default --max-connections is sized under the open-file limit (256 with the usual
    // `ulimit -n` of 1024), and this process holds both ends of every connection: batches of 100,
    // each dropped by the proxy before the next opens, stay under it and are never refused.
    const batch = 100;
    try {
      for (let done = 0; done < total; done += batch) {
        await Promise.all(
          Array.from({ length: batch }, async (_, i) => {
            const socket = connect(fx.mitm.port, '127.0.0.1');
            socket.on('error', () => undefined);
            await within(once(socket, 'connect'), 'a connection to the proxy');
            // A quarter say nothing, a quarter send half a request head, a quarter half a CONNECT,
            // a quarter a whole head and leave before the answer; all vanish.
            if (i % 4 === 1) socket.write('GET http://localhost/ HTTP/1.1\r\nhost: loc');
            if (i % 4 === 2) socket.write('CONNECT localhost:443 HTTP/1.1\r\n');
            if (i % 4 === 3) socket.write(`GET ${fx.plain.url}/ok HTTP/1.1\r\nhost: localhost\r\n\r\n`);
            socket.destroy();
          }),
        );
        await until(() => fx.mitm.proxy.connections === 0, `the proxy to drop batch ${done / batch + 1}`, {
          describe: () => `${fx.mitm.proxy.connections} open`,
        });
      }
    } finally {
      fx.mitm.proxy.off('client-refused', onRefused);
    }
    assert.deepEqual(refused, [], 'no connection was refused by the connection cap');
    await until(() => fdCount() <= before + 5, 'fds back to the baseline', {
      ms: 20_000,
      describe: () => `${fdCount()} fds, ${before} before`,
    });
    assert.equal((await sendViaProxy(fx.mitm.port, `${fx.plain.url}/ok`)).text, 'ok');
  });

  it('nothing leaks: connections, fds and active resources back at the baseline', TEST, async () => {
    for (const entry of seen.values()) entry.res.destroy();
    await until(
      () => fx.mitm.proxy.connections === 0 && fx.impatient.proxy.connections === 0,
      'both proxies to have no client connections',
      {
        describe: () => `${fx.mitm.proxy.connections} + ${fx.impatient.proxy.connections}`,
      },
    );
    // Keep-alive pools (proxy → origin) may still hold idle sockets; they are the proxy's, bounded, and
    // closed by close(): the suite's after() proves that. Here: no growth beyond a pooled few.
    await until(() => fdCount() <= baseline.fds + 12, 'fds near the suite baseline', {
      describe: () => `${fdCount()} fds, ${baseline.fds} at start`,
    });
    await until(() => process.getActiveResourcesInfo().length <= baseline.resources + 12, 'active resources near the suite baseline', {
      describe: () => `${process.getActiveResourcesInfo().join(',')} (${baseline.resources} at start)`,
    });
  });
});

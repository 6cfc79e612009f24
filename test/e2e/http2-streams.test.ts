import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { MitmAgent } from '../helpers/client.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { within } from '../helpers/deadline.js';
import { h2Request, h2ViaProxy } from '../helpers/h2-client.js';
import { deferred } from '../helpers/hook-proxy.js';
import { startH2Origin, type H2EchoBody, type H2Origin } from '../helpers/h2-origin.js';
import { bigSha256, startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

/** An HTTP/1.1 request through `agent` whose body goes out chunked with `trailers`; resolves with the whole response. */
async function h1WithTrailers(
  agent: MitmAgent,
  port: number,
  path: string,
  trailers?: Record<string, string>,
): Promise<{ status: number; text: string; trailers: NodeJS.Dict<string> }> {
  const req = request({ agent, host: 'localhost', port, path, method: trailers ? 'POST' : 'GET' });
  if (trailers) {
    req.write('chunked body');
    req.addTrailers(trailers);
  }
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), trailers: res.trailers };
}

// Trailers, event streams and backpressure across the HTTP/2 ↔ HTTP/1.1 translation.
describe('proxy: HTTP/2 trailers and streaming', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let mitm: TestProxy;
  let mitmCa: string;
  let h2: H2Origin;
  let big: Origin;
  let h1: CustomOrigin;
  let agent: MitmAgent;
  const sessions: ClientHttp2Session[] = [];
  const events: Array<(res: ServerResponse) => void> = [];
  const holds: Array<(req: IncomingMessage, res: ServerResponse) => void> = [];
  const open = async (authority: string): Promise<ClientHttp2Session> => {
    const session = await h2ViaProxy(mitm.port, authority, mitmCa);
    sessions.push(session);
    return session;
  };

  before(async () => {
    pki = await createTestPki();
    mitm = await startTestProxy(pki);
    mitmCa = await readFile(mitm.caPath, 'utf8');
    agent = new MitmAgent(mitm.port, mitmCa);
    h2 = await startH2Origin(pki.origin, { allowHTTP1: false });
    big = await startOrigin(pki.origin);
    // An HTTP/1.1 origin: /trailers answers chunked with trailers, /req-trailers reports the
    // request's, /events and /hold hand their request and response to the test.
    h1 = await startCustomOrigin((req, res) => {
      if (req.url === '/events') {
        events.shift()?.(res);
        return;
      }
      if (req.url === '/hold') {
        holds.shift()?.(req, res);
        return;
      }
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        if (req.url === '/req-trailers') res.end(JSON.stringify(req.trailers));
        else {
          res.addTrailers({ 'x-checksum': 'abc' });
          res.end('with trailers');
        }
      });
    }, pki.origin);
  });

  after(async () => {
    for (const session of sessions) session.destroy();
    agent?.destroy();
    await mitm?.close();
    await Promise.all([h2?.close(), big?.close(), h1?.close()]);
    await pki?.cleanup();
  });

  it('passes chunked trailers of an HTTP/1.1 origin to an HTTP/2 client as HTTP/2 trailers', async () => {
    const res = await h2Request(await open(`localhost:${h1.port}`), { ':path': '/trailers' });
    assert.equal(res.text, 'with trailers');
    assert.equal(res.trailers['x-checksum'], 'abc');
  });

  it('passes HTTP/2 request trailers of a client to an HTTP/1.1 origin as chunked trailers', async () => {
    const session = await open(`localhost:${h1.port}`);
    const res = await h2Request(
      session,
      { ':method': 'POST', ':path': '/req-trailers' },
      { body: 'body', trailers: { 'x-req-trailer': 'v' } },
    );
    assert.deepEqual(JSON.parse(res.text), { 'x-req-trailer': 'v' });
  });

  it('passes HTTP/2 trailers of an origin to an HTTP/1.1 client as chunked trailers', async () => {
    const res = await h1WithTrailers(agent, h2.port, '/trailers');
    assert.equal(res.text, 'with trailers');
    assert.equal(res.trailers['x-checksum'], 'abc');
    assert.equal(res.trailers['x-count'], '2');
  });

  it('passes chunked request trailers of an HTTP/1.1 client to an HTTP/2 origin', async () => {
    const res = await h1WithTrailers(agent, h2.port, '/echo', { 'X-Req-Trailer': 'v' });
    const echo = JSON.parse(res.text) as H2EchoBody;
    assert.equal(echo.httpVersion, '2.0');
    assert.equal(echo.body, 'chunked body');
    assert.equal(echo.trailers['x-req-trailer'], 'v');
  });

  it('ends an HTTP/2 client stream with the last byte of a sized body, before the HTTP/2 origin ends its own', {
    timeout: 10_000,
  }, async () => {
    const session = await open(h2.authority);
    // Without TE: trailers nothing is owed after the declared length: the answer is complete here
    // while the origin still holds its stream open (and the trailer it sends later is dropped).
    const res = await h2Request(session, { ':path': '/held' });
    h2.releaseHeld();
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    assert.deepEqual(res.trailers, {});
  });

  it('waits for the origin to end a sized body when the HTTP/2 client asked for trailers, and passes them on', {
    timeout: 10_000,
  }, async () => {
    const session = await open(h2.authority);
    const stream = session.request({ ':path': '/held', te: 'trailers' }, { endStream: true });
    const trailers = once(stream, 'trailers') as Promise<[IncomingHttpHeaders]>;
    const ended = once(stream, 'end');
    const [first] = (await once(stream, 'data')) as [Buffer];
    assert.equal(first.toString('utf8'), 'hello');
    h2.releaseHeld();
    const [fields] = await trailers;
    assert.equal(fields['x-held'], 'released');
    await ended;
  });

  it('streams server-sent events to an HTTP/2 client as they come, through onServerSentEvent hooks', async () => {
    mitm.proxy.use({
      name: 'shout',
      onServerSentEvent(flow, event) {
        if (flow.request.url.endsWith('/events')) event.data = event.data.toUpperCase();
      },
    });
    const served = deferred<ServerResponse>();
    events.push((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      served.resolve(res);
    });
    const stream = (await open(`localhost:${h1.port}`)).request({ ':path': '/events' });
    const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    assert.equal(head[':status'], 200);
    const res = await served.promise;
    res.write('data: first\n\n');
    stream.setEncoding('utf8');
    const [first] = (await once(stream, 'data')) as [string];
    // The origin still holds the stream open: the event came through on its own.
    assert.equal(first, 'data: FIRST\n\n');
    res.end('data: last\n\n');
    let rest = '';
    for await (const chunk of stream) rest += chunk as string;
    assert.equal(rest, 'data: LAST\n\n');
  });

  it('frees the origin request and records the flow as aborted when an HTTP/2 client goes away mid-upload', async () => {
    const held = deferred<IncomingMessage>();
    holds.push((req) => {
      req.resume();
      held.resolve(req);
    });
    const session = await open(`localhost:${h1.port}`);
    const upload = session.request({ ':method': 'POST', ':path': '/hold' });
    upload.on('error', () => undefined);
    upload.write('part of a body');
    const originSide = await held.promise;
    // The origin's request breaks off ('aborted' error), then closes.
    originSide.on('error', () => undefined);
    const originClosed = new Promise((resolve) => originSide.once('close', resolve));
    // The client disappears: TCP FIN, no GOAWAY, no RST_STREAM.
    session.destroy();
    await originClosed;
    const flow = await mitm.flows.waitFor((f) => f.url === `https://localhost:${h1.port}/hold`);
    assert.equal(flow.error?.code, 'aborted');
    assert.equal(flow.status, undefined);
  });

  it('holds an HTTP/1.1 origin back while an HTTP/2 client does not read (flow control end to end)', async (t) => {
    const bytes = 64 * 1024 * 1024;
    const session = await open(big.authority);
    let written = 0;
    let stalled = false;
    let drains = 0;
    let finished = false;
    let wake: (() => void) | undefined;
    const changed = (): void => {
      wake?.();
      wake = undefined;
    };
    const onStall = (at: number): void => {
      written = at;
      stalled = true;
      changed();
    };
    const onDrain = (): void => {
      stalled = false;
      drains += 1;
      changed();
    };
    const onFinish = (): void => {
      finished = true;
      changed();
    };
    big.big.on('stall', onStall).on('drain', onDrain).on('finish', onFinish);
    try {
      const stream = session.request({ ':path': `/big?bytes=${bytes}` });
      await once(stream, 'response');
      // Never read until the origin is blocked through a whole probe: a proxy that reads its origin
      // regardless of its client lets the origin drain meanwhile, and in the end finish.
      while (!finished) {
        if (!stalled) {
          await within(new Promise<void>((resolve) => (wake = resolve)), 'the origin to stall, drain or finish');
          continue;
        }
        const drainsBefore = drains;
        const probe = await h2Request(await open(big.authority), { ':path': '/hello' });
        assert.equal(probe.text, 'hello');
        if (drains === drainsBefore) break;
      }
      t.diagnostic(`the origin blocked after ${(written / 2 ** 20).toFixed(1)} MiB`);
      assert.equal(finished, false, 'the whole body left the origin while the client read none of it');
      assert.ok(written < bytes / 4, `${written} bytes left the origin while the client read none`);
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of stream) {
        hash.update(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
      assert.equal(received, bytes);
      assert.equal(hash.digest('hex'), bigSha256(bytes));
    } finally {
      big.big.off('stall', onStall).off('drain', onDrain).off('finish', onFinish);
    }
  });
});

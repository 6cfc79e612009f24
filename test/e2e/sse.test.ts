import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { onceWithin, TextReader, within } from '../helpers/deadline.js';
import { startCustomOrigin } from '../helpers/custom-origin.js';
import { e2eFixture } from '../helpers/fixture.js';

// An origin whose event streams the test drives by hand: each test gets the response object and
// decides when to write and when to end, so "arrives before the end" is observable without timers.
// Every wait has a deadline: a proxy that buffered the stream would fail a test, not hang it.
const streams: Array<(res: ServerResponse, req: IncomingMessage) => void> = [];

describe('server-sent events through the proxy', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: async () => startCustomOrigin((req, res) => streams.shift()?.(res, req)) },
    proxies: { proxy: {} },
  });

  /** Opens an event stream through the proxy and returns a reader of what arrives, chunk by chunk. */
  async function openStream(
    path: string,
  ): Promise<{ response: IncomingMessage; until: (text: string) => Promise<string>; ended: () => Promise<string> }> {
    const request = http.request({ host: '127.0.0.1', port: fx.proxy.port, path: `http://127.0.0.1:${fx.origin.port}${path}` });
    request.end();
    const [response] = (await onceWithin(request, 'response', `the response head of ${path}`)) as [IncomingMessage];
    const reader = new TextReader(response);
    return { response, until: (text) => reader.until(text), ended: () => reader.ended() };
  }

  /** The next origin response for an event-stream request, with its head already sent. */
  function nextStream(headers: Record<string, string> = {}): Promise<ServerResponse> {
    const served = new Promise<ServerResponse>((resolve) => {
      streams.push((res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
        res.flushHeaders();
        resolve(res);
      });
    });
    return within(served, 'the origin to receive the event-stream request');
  }

  test('events stream through one by one: the first arrives while the origin still holds the stream open', async () => {
    const served = nextStream();
    const opened = openStream('/plain');
    const res = await served;
    const client = await opened;
    res.write('id: 1\ndata: first\n\n');
    assert.equal(await client.until('data: first\n\n'), 'id: 1\ndata: first\n\n');
    res.end('data: last\n\n');
    assert.equal(await client.ended(), 'id: 1\ndata: first\n\ndata: last\n\n');
  });

  test('onServerSentEvent hooks change, drop and inject events; comments and untouched events keep their bytes', async () => {
    const seen: string[] = [];
    fx.proxy.proxy.use({
      name: 'sse-editor',
      onServerSentEvent(flow, event) {
        if (!flow.request.url.endsWith('/hooked')) return undefined;
        seen.push(event.data);
        if (event.event === 'drop') return null;
        if (event.data === 'hello') event.data = 'HELLO';
        if (event.data.startsWith('two')) return [{ data: 'injected', event: 'extra' }, event];
        return undefined;
      },
    });
    const served = nextStream();
    const client = await openStream('/hooked');
    const res = await served;
    res.write('id: 1\r\ndata: hello\r\n\r\n');
    assert.equal(await client.until('data: HELLO\n\n'), 'id: 1\ndata: HELLO\n\n');
    res.write(': keep-alive\n\nevent: drop\ndata: secret\n\ndata: two\ndata: lines\n\ndata: same\n\n');
    res.end();
    const all = await client.until('data: same\n\n');
    assert.equal(all, 'id: 1\ndata: HELLO\n\n: keep-alive\n\nevent: extra\ndata: injected\n\ndata: two\ndata: lines\n\ndata: same\n\n');
    assert.deepEqual(seen, ['hello', 'secret', 'two\nlines', 'same']);
  });

  test('a gzip event stream is decoded for the hooks and sent on decoded', async () => {
    const served = nextStream({ 'content-encoding': 'gzip' });
    const client = await openStream('/hooked-gzip');
    const res = await served;
    const gzip = zlib.createGzip();
    gzip.pipe(res);
    gzip.write('data: zipped\n\n');
    gzip.flush();
    assert.equal(await client.until('data: zipped\n\n'), 'data: zipped\n\n');
    assert.equal(client.response.headers['content-encoding'], undefined);
    gzip.end('data: done\n\n');
    assert.equal(await client.ended(), 'data: zipped\n\ndata: done\n\n');
  });
});

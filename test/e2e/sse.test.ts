import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

// An origin whose event streams the test drives by hand: each test gets the response object and
// decides when to write and when to end, so "arrives before the end" is observable without timers.
let origin: http.Server;
let originPort: number;
const streams: Array<(res: ServerResponse, req: IncomingMessage) => void> = [];
let pki: TestPki;
let proxy: TestProxy;

before(async () => {
  pki = await createTestPki();
  proxy = await startTestProxy(pki);
  origin = http.createServer((req, res) => streams.shift()?.(res, req));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  originPort = (origin.address() as AddressInfo).port;
});

after(async () => {
  origin.closeAllConnections();
  origin.close();
  await proxy.close();
  await pki.cleanup();
});

/** Opens an event stream through the proxy and returns a reader of what arrives, chunk by chunk. */
async function openStream(path: string): Promise<{ response: IncomingMessage; until: (text: string) => Promise<string> }> {
  const request = http.request({ host: '127.0.0.1', port: proxy.port, path: `http://127.0.0.1:${originPort}${path}` });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  response.setEncoding('utf8');
  let seen = '';
  let wake: (() => void) | undefined;
  response.on('data', (chunk: string) => {
    seen += chunk;
    wake?.();
  });
  return {
    response,
    until: async (text) => {
      while (!seen.includes(text)) await new Promise<void>((resolve) => (wake = resolve));
      return seen;
    },
  };
}

/** The next origin response for an event-stream request, with its head already sent. */
function nextStream(headers: Record<string, string> = {}): Promise<ServerResponse> {
  return new Promise((resolve) => {
    streams.push((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
      res.flushHeaders();
      resolve(res);
    });
  });
}

test('events stream through one by one: the first arrives while the origin still holds the stream open', async () => {
  const served = nextStream();
  const opened = openStream('/plain');
  const res = await served;
  const client = await opened;
  res.write('id: 1\ndata: first\n\n');
  assert.equal(await client.until('first'), 'id: 1\ndata: first\n\n');
  res.end('data: last\n\n');
  await once(client.response, 'end');
});

test('onServerSentEvent hooks change, drop and inject events; comments and untouched events keep their bytes', async () => {
  const seen: string[] = [];
  proxy.proxy.use({
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
  assert.equal(await client.until('HELLO'), 'id: 1\ndata: HELLO\n\n');
  res.write(': keep-alive\n\nevent: drop\ndata: secret\n\ndata: two\ndata: lines\n\ndata: same\n\n');
  res.end();
  const all = await client.until('data: same\n\n');
  assert.equal(
    all,
    'id: 1\ndata: HELLO\n\n: keep-alive\n\nevent: extra\ndata: injected\n\ndata: two\ndata: lines\n\ndata: same\n\n',
  );
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
  assert.equal(await client.until('zipped'), 'data: zipped\n\n');
  assert.equal(client.response.headers['content-encoding'], undefined);
  gzip.end();
  await client.until('zipped');
});

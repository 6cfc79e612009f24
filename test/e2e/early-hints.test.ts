import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type InformationEvent, type RequestOptions, type ServerResponse } from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connectRaw, MitmAgent } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture, type OriginFactory } from '../helpers/fixture.js';
import { h2ViaProxy } from '../helpers/h2-client.js';

// An origin's 103 Early Hints (RFC 8297) lets a browser preload while the page is still being
// made; a proxy that drops it costs that head start. The proxy passes it on before the answer, as
// mitmproxy does: to HTTP/1.1 clients as an interim response, to HTTP/2 clients as a HEADERS block.
const STYLE = '</style.css>; rel=preload; as=style';
const SCRIPT = '</app.js>; rel=preload; as=script';

/** An HTTP/1.1 origin: 103 with two links and one other field, then 200 'page'. */
function hinting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeEarlyHints({ link: [STYLE, SCRIPT], 'x-hint': 'yes' });
  res.writeHead(200, { 'content-type': 'text/plain' }).end('page');
}

// A Link value that a backtracking check of Node's link grammar takes exponential time to refuse
// (a parameter name may hold '='): ~20 s at 18 repeats. Node's writeEarlyHints would refuse it (and
// take as long), so the origin writes its 103 itself.
const HOSTILE_LINK = `<a>${';a=b=c'.repeat(18)} "`;

/** An HTTP/1.1 origin whose 103 carries one good link and a hostile one, then 200 'page'. */
function hostileHinting(_req: IncomingMessage, res: ServerResponse): void {
  res.socket?.write(`HTTP/1.1 103 Early Hints\r\nlink: ${STYLE}, ${HOSTILE_LINK}\r\n\r\n`);
  res.writeHead(200, { 'content-type': 'text/plain' }).end('page');
}

/** Reads the upload (after Node's own 100 Continue to an Expect), then hints, then answers with its length. */
function readingHinting(req: IncomingMessage, res: ServerResponse): void {
  let length = 0;
  req.on('data', (chunk: Buffer) => {
    length += chunk.length;
  });
  req.on('end', () => {
    res.writeEarlyHints({ link: STYLE });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${length}`);
  });
}

/** The same over HTTP/2: 103 as an extra HEADERS block, then the answer. */
const h2Hinting: OriginFactory<{ port: number; close(): Promise<void> }> = async (pki) => {
  const server = http2.createSecureServer({ cert: pki.origin.cert, key: pki.origin.key });
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.additionalHeaders({ ':status': 103, link: [STYLE, SCRIPT], 'x-hint': 'yes' });
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('page');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** A GET with Node's HTTP/1.1 client: the interim heads seen before the answer, and the answer. */
async function getWithHints(options: RequestOptions): Promise<{ hints: InformationEvent[]; status: number; text: string }> {
  const hints: InformationEvent[] = [];
  const req = httpRequest(options);
  req.on('information', (info) => hints.push(info));
  req.end();
  const [res] = (await within(once(req, 'response'), 'the answer')) as [IncomingMessage];
  // Taken now: a 103 that came after the answer's head would not count.
  const before = [...hints];
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return { hints: before, status: res.statusCode ?? 0, text };
}

function assertHints(hints: readonly InformationEvent[]): void {
  assert.equal(hints.length, 1, JSON.stringify(hints));
  assert.equal(hints[0]?.statusCode, 103);
  assert.equal(hints[0]?.headers.link, `${STYLE}, ${SCRIPT}`);
  assert.equal(hints[0]?.headers['x-hint'], 'yes');
}

describe('103 Early Hints from the origin', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      plain: customOrigin(hinting),
      secure: customOrigin(hinting, { secure: true }),
      h2: h2Hinting,
      hostile: customOrigin(hostileHinting),
      reading: customOrigin(readingHinting),
      readingSecure: customOrigin(readingHinting, { secure: true }),
    },
    proxies: { mitm: {} },
  });

  it('reach a Node HTTP/1.1 client before the answer: plain origin (absolute form)', async () => {
    const answer = await getWithHints({
      host: '127.0.0.1',
      port: fx.mitm.port,
      path: `http://localhost:${fx.plain.port}/page`,
      headers: { host: `localhost:${fx.plain.port}` },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'page');
    assertHints(answer.hints);
  });

  it('pass on the good links of a 103 at once, dropping a hostile one without checking it for seconds', async () => {
    const answer = await getWithHints({
      host: '127.0.0.1',
      port: fx.mitm.port,
      path: `http://localhost:${fx.hostile.port}/page`,
      headers: { host: `localhost:${fx.hostile.port}` },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'page');
    assert.equal(answer.hints.length, 1, JSON.stringify(answer.hints));
    assert.equal(answer.hints[0]?.headers.link, STYLE);
  });

  for (const [name, target] of [
    ['TLS HTTP/1.1 origin', 'secure'],
    ['TLS HTTP/2 origin', 'h2'],
  ] as const) {
    it(`reach a Node HTTP/1.1 client before the answer: ${name} (CONNECT tunnel)`, async () => {
      const agent = new MitmAgent(fx.mitm.port, fx.mitm.caPem);
      try {
        const answer = await getWithHints({ agent, host: 'localhost', port: fx[target].port, path: '/page' });
        assert.equal(answer.status, 200);
        assert.equal(answer.text, 'page');
        assertHints(answer.hints);
      } finally {
        agent.destroy();
      }
    });

    it(`reach a Node HTTP/2 client as a HEADERS block before the answer: ${name}`, async () => {
      const session = await h2ViaProxy(fx.mitm.port, `localhost:${fx[target].port}`, fx.mitm.caPem);
      try {
        const stream = session.request({ ':path': '/page' });
        const interim: IncomingHttpHeaders[] = [];
        stream.on('headers', (headers: IncomingHttpHeaders) => interim.push(headers));
        const [head] = (await within(once(stream, 'response'), 'the answer')) as [IncomingHttpHeaders];
        assert.equal(head[':status'], 200);
        assert.equal(interim.length, 1, JSON.stringify(interim));
        assert.equal(interim[0]?.[':status'], 103);
        assert.equal(interim[0]?.link, `${STYLE}, ${SCRIPT}`);
        assert.equal(interim[0]?.['x-hint'], 'yes');
        stream.resume();
        await within(once(stream, 'end'), 'the body');
      } finally {
        session.destroy();
      }
    });
  }

  it('show in curl -v (HTTP/1.1 and HTTP/2)', async () => {
    for (const [version, url, line] of [
      ['--http1.1', `http://localhost:${fx.plain.port}/page`, 'HTTP/1.1 103'],
      ['--http1.1', `https://localhost:${fx.secure.port}/page`, 'HTTP/1.1 103'],
      ['--http2', `https://localhost:${fx.h2.port}/page`, 'HTTP/2 103'],
    ] as const) {
      const res = await curlVia(fx.mitm.url, ['-v', version, url], fx.mitm.caPath);
      assert.equal(res.status, 200, res.stderr);
      assert.equal(res.text, 'page');
      assert.ok(res.stderr.includes(`< ${line}`), `${version} ${url}: ${res.stderr}`);
      // curl prints the HTTP/2 block's fields one by one: a link each.
      assert.match(res.stderr, /< link: .*<\/style\.css>; rel=preload; as=style/i);
      assert.match(res.stderr, /< link: .*<\/app\.js>; rel=preload; as=script/i);
    }
  });

  // Interim heads on both hops: the client's 100 Continue comes from the proxy's own server, the
  // origin's (to the Expect passed on) stays on the origin's hop, and its 103 follows it through.
  for (const target of ['reading', 'readingSecure'] as const) {
    it(`leave Expect: 100-continue working, with the hints after it (Node and curl, ${target})`, async () => {
      const secure = target === 'readingSecure';
      const port = fx[target].port;
      const agent = secure ? new MitmAgent(fx.mitm.port, fx.mitm.caPem) : undefined;
      try {
        const body = 'x'.repeat(5000);
        const req = httpRequest({
          method: 'POST',
          ...(agent
            ? { agent, host: 'localhost', port, path: '/up' }
            : { host: '127.0.0.1', port: fx.mitm.port, path: `http://localhost:${port}/up` }),
          headers: { host: `localhost:${port}`, expect: '100-continue', 'content-length': String(body.length) },
        });
        const hints: InformationEvent[] = [];
        req.on('information', (info) => hints.push(info));
        req.on('continue', () => req.end(body));
        req.flushHeaders();
        const [res] = (await within(once(req, 'response'), 'the answer after 100 Continue')) as [IncomingMessage];
        let text = '';
        res.setEncoding('utf8');
        for await (const chunk of res) text += chunk;
        assert.equal(res.statusCode, 200);
        assert.equal(text, 'got 5000');
        assert.deepEqual(
          hints.map((info) => [info.statusCode, info.headers.link]),
          [
            [100, undefined],
            [103, STYLE],
          ],
        );
        const url = `${secure ? 'https' : 'http'}://localhost:${port}/curl`;
        const viaCurl = await curlVia(
          fx.mitm.url,
          ['-v', '--http1.1', '-H', 'Expect: 100-continue', '--data-binary', body, url],
          fx.mitm.caPath,
        );
        assert.equal(viaCurl.text, 'got 5000', viaCurl.stderr);
        assert.match(viaCurl.stderr, /< HTTP\/1\.1 100 Continue[\s\S]*< HTTP\/1\.1 103 Early Hints[\s\S]*< HTTP\/1\.1 200 /);
      } finally {
        agent?.destroy();
      }
    });
  }

  it('are not sent to an HTTP/1.0 client (RFC 9110 §15.2)', async () => {
    // Not half-closed: the HTTP/1.0 exchange ends with the proxy's close.
    const socket = await connectRaw(fx.mitm.port);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(`GET http://localhost:${fx.plain.port}/page HTTP/1.0\r\nHost: localhost:${fx.plain.port}\r\n\r\n`);
    await within(once(socket, 'close'), 'the proxy to close the HTTP/1.0 connection');
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 /, text);
    assert.ok(!text.includes(' 103 '), text);
  });
});

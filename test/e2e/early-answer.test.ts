import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import type { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { customOrigin, e2eFixture } from '../helpers/fixture.js';
import { MitmAgent } from '../helpers/client.js';
import { h2ViaProxy } from '../helpers/h2-client.js';
import { run } from '../helpers/run.js';

// An origin may answer before it has read the upload (RFC 9110 §15.5.14: 413, or 401 before a
// large body). Directly, Node's HTTP/2 server then closes the stream with RST_STREAM NO_ERROR
// (RFC 9113 §8.1) and the client's upload ends. Through the proxy an HTTP/2 client got the answer
// but its stream never closed: nothing read the rest of its upload, so flow control held it forever.
// An HTTP/1.1 client on a keep-alive connection got the answer and then its upload stalled the
// same way (backpressure from an origin that stopped reading), its connection never reusable.
const UPLOAD = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(16 * 1024, 0x61);

// Python's http.client through the proxy (absolute form): uploads, then reads the answer; prints
// its status, Connection field, whether http.client will close the connection, and its body.
const PYTHON_UPLOAD = `
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
conn.request("POST", sys.argv[2], body=b"a" * int(sys.argv[3]))
response = conn.getresponse()
sys.stdout.write(f"{response.status} {response.getheader('connection')} {response.will_close} {response.read().decode()}")
`;

/** The origins' connections that carried a request, each as a promise of its close (an error on it, a cut upload, counts too). */
const originConnections: Promise<void>[] = [];

/** An origin that answers 401 at once, reading none of the request body. */
function answerEarly(req: IncomingMessage, res: ServerResponse): void {
  originConnections.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
  res.writeHead(401, { 'content-type': 'text/plain' }).end('auth first');
}

/**
 * Uploads UPLOAD bytes with the Node client on a keep-alive connection, and resolves once the
 * request closes (its connection closed: the rest of the upload can never go), with what came back.
 */
async function uploadOverHttp1(
  options: RequestOptions,
  framing: 'length' | 'chunked' = 'length',
): Promise<{ status: number; connection: string | undefined; text: string }> {
  const length = framing === 'length' ? { 'content-length': String(UPLOAD) } : { 'transfer-encoding': 'chunked' };
  const req = request({ ...options, method: 'POST', headers: { ...options.headers, ...length } });
  let status = 0;
  let connection: string | undefined;
  let text = '';
  req.on('error', () => undefined);
  req.on('response', (res) => {
    status = res.statusCode ?? 0;
    connection = res.headers.connection;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
    });
  });
  const closed = once(req, 'close');
  const sent = upload(req);
  await within(closed, () => `the request to close; got ${status} ${JSON.stringify(text)}, sent ${sent()} of ${UPLOAD} bytes`);
  return { status, connection, text };
}

/** Writes UPLOAD bytes to `to` with backpressure, stopping when it is destroyed; returns a read of the count. */
function upload(to: Writable): () => number {
  let sent = 0;
  const pump = (): void => {
    while (sent < UPLOAD && !to.destroyed) {
      sent += CHUNK.length;
      if (!to.write(CHUNK)) {
        to.once('drain', pump);
        return;
      }
    }
    if (!to.destroyed) to.end();
  };
  pump();
  return () => sent;
}

describe('an origin that answers before reading the upload', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { secure: customOrigin(answerEarly, { secure: true }), plain: customOrigin(answerEarly) },
    proxies: { mitm: {} },
  });

  // The answer says keep-alive (a client asking for Connection: close would get the connection
  // closed by Node's server anyway): the proxy must close it once the answer is out, or the upload
  // waits forever on an origin that no longer reads it. Then the origin's connection goes too.
  for (const [name, target] of [
    ['plain origin (absolute-form request)', 'plain'],
    ['TLS origin (CONNECT tunnel)', 'secure'],
  ] as const) {
    it(`HTTP/1.1 client, ${name}: gets the answer, and its connection closes instead of waiting for the upload to be read`, async () => {
      originConnections.length = 0;
      const secure = target === 'secure';
      const port = fx[target].port;
      const agent = secure ? new MitmAgent(fx.mitm.port, fx.mitm.caPem) : new Agent({ keepAlive: true });
      try {
        const answer = await uploadOverHttp1(
          secure
            ? { agent, host: 'localhost', port, path: '/upload' }
            : {
                agent,
                host: '127.0.0.1',
                port: fx.mitm.port,
                path: `http://localhost:${port}/upload`,
                headers: { host: `localhost:${port}` },
              },
        );
        assert.equal(answer.status, 401);
        assert.equal(answer.text, 'auth first');
        assert.equal(answer.connection, 'close', 'the connection ends after the answer, and the answer says so');
        const url = `${secure ? 'https' : 'http'}://localhost:${port}/upload`;
        const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
        assert.equal(flow.status, 401);
        assert.equal(flow.error, undefined, 'the answer went out whole: the flow is not aborted');
        assert.equal(originConnections.length, 1);
        await within(Promise.all(originConnections), "the origin's connection, whose upload was abandoned, to close");
      } finally {
        agent.destroy();
      }
    });
  }

  // Clients that see keep-alive put the connection back in their pool, and their next request on
  // it fails: Python's http.client decides by the answer's Connection field (will_close).
  it('Python http.client and curl: the answer says Connection: close, the connection closing after it', async () => {
    const url = `http://localhost:${fx.plain.port}/python`;
    const result = await run('python3', ['-c', PYTHON_UPLOAD, String(fx.mitm.port), url, String(UPLOAD)], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString('utf8'), '401 close True auth first');
    const dir = await mkdtemp(join(tmpdir(), 'mitm-early-'));
    try {
      const file = join(dir, 'upload');
      await writeFile(file, Buffer.alloc(UPLOAD, 0x61));
      for (const target of [url, `https://localhost:${fx.secure.port}/curl`]) {
        const res = await curlVia(fx.mitm.url, ['--http1.1', '-H', 'Expect:', '--data-binary', `@${file}`, target], fx.mitm.caPath);
        assert.equal(res.status, 401, `${target}: ${res.stderr} ${res.text} ${JSON.stringify(res.headers)}`);
        assert.equal(res.headers.connection, 'close', target);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('HTTP/2 client: gets the answer, and its stream closes instead of waiting for the upload to be read', async () => {
    const session = await h2ViaProxy(fx.mitm.port, `localhost:${fx.secure.port}`, fx.mitm.caPem);
    try {
      const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': String(UPLOAD) });
      let status = 0;
      let text = '';
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      const sent = upload(stream);
      const closed = new Promise<void>((resolve) => stream.once('close', resolve));
      await within(closed, () => `the stream to close; got ${status} ${JSON.stringify(text)}, sent ${sent()} of ${UPLOAD} bytes`);
      assert.equal(status, 401);
      assert.equal(text, 'auth first');
      assert.equal(stream.rstCode, 0, 'closed without error (NO_ERROR), the answer being complete');
      const flow = await fx.mitm.flows.waitFor((f) => f.url === `https://localhost:${fx.secure.port}/upload`);
      assert.equal(flow.status, 401);
      assert.equal(flow.error, undefined, 'the answer went out whole: the flow is not aborted');
    } finally {
      session.destroy();
    }
  });
});

/** An origin that answers 413 at once with `Connection: close`, reading none of the body, and closes (over the unread upload: a reset). */
function refuseAndClose(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('too big');
}

describe('an origin that answers before reading the upload and closes the connection', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { secure: customOrigin(refuseAndClose, { secure: true }), plain: customOrigin(refuseAndClose) },
    // The plain origin stands in for an upstream HTTP proxy: it takes the absolute-form request as any
    // request, and refuses it the same way.
    proxies: { mitm: {}, chained: (_pki, origins) => ({ upstreamProxy: `http://127.0.0.1:${origins.plain.port}` }) },
  });

  it('HTTP/1.1 client, plain origin through an upstream HTTP proxy that answers early and closes: gets its 413, not a 502', async () => {
    for (let round = 0; round < 3; round += 1) {
      const agent = new Agent({ keepAlive: true });
      try {
        const url = `http://origin.test/chained-${round}`;
        const answer = await uploadOverHttp1({
          agent,
          host: '127.0.0.1',
          port: fx.chained.port,
          path: url,
          headers: { host: 'origin.test' },
        });
        assert.equal(answer.status, 413, `round ${round}: ${answer.text}`);
        assert.equal(answer.text, 'too big');
        const flow = await fx.chained.flows.waitFor((f) => f.url === url);
        assert.equal(flow.error, undefined);
      } finally {
        agent.destroy();
      }
    }
  });

  for (const [name, target] of [
    ['plain origin (absolute-form request)', 'plain'],
    ['TLS origin (CONNECT tunnel)', 'secure'],
  ] as const) {
    it(`HTTP/1.1 client, ${name}: gets the origin's 413, not a 502`, async () => {
      const secure = target === 'secure';
      const port = fx[target].port;
      // Three sized uploads, then a chunked one (to a TLS origin, Node's agent carries it, not undici).
      for (let round = 0; round < 4; round += 1) {
        const agent = secure ? new MitmAgent(fx.mitm.port, fx.mitm.caPem) : new Agent({ keepAlive: true });
        try {
          const answer = await uploadOverHttp1(
            secure
              ? { agent, host: 'localhost', port, path: `/upload-${round}` }
              : {
                  agent,
                  host: '127.0.0.1',
                  port: fx.mitm.port,
                  path: `http://localhost:${port}/upload-${round}`,
                  headers: { host: `localhost:${port}` },
                },
            round === 3 ? 'chunked' : 'length',
          );
          assert.equal(answer.status, 413, `round ${round}: ${answer.text}`);
          assert.equal(answer.text, 'too big');
          const url = `${secure ? 'https' : 'http'}://localhost:${port}/upload-${round}`;
          const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
          assert.equal(flow.status, 413);
          assert.equal(flow.error, undefined);
        } finally {
          agent.destroy();
        }
      }
    });
  }

  it("curl (HTTP/1.1 and HTTP/2, plain and TLS origins): gets the origin's 413, not a 502", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-early-'));
    try {
      const file = join(dir, 'upload');
      await writeFile(file, Buffer.alloc(UPLOAD, 0x61));
      const cases = [
        ['--http1.1', `http://localhost:${fx.plain.port}/curl`],
        ['--http1.1', `https://localhost:${fx.secure.port}/curl`],
        ['--http2', `https://localhost:${fx.secure.port}/curl`],
      ] as const;
      for (const [version, url] of cases) {
        const res = await curlVia(fx.mitm.url, [version, '-H', 'Expect:', '--data-binary', `@${file}`, url], fx.mitm.caPath);
        assert.equal(res.status, 413, `${version} ${url}: ${res.text} ${res.stderr}`);
        assert.equal(res.text, 'too big');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("HTTP/2 client, TLS origin: gets the origin's 413, not a 502", async () => {
    for (let round = 0; round < 3; round += 1) {
      const session = await h2ViaProxy(fx.mitm.port, `localhost:${fx.secure.port}`, fx.mitm.caPem);
      try {
        const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': `/h2-${round}`, 'content-length': String(UPLOAD) });
        let status = 0;
        let text = '';
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        stream.on('error', () => undefined);
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          text += chunk;
        });
        const sent = upload(stream);
        await within(
          once(stream, 'close'),
          () => `the stream to close; got ${status} ${JSON.stringify(text)}, sent ${sent()} of ${UPLOAD} bytes`,
        );
        assert.equal(status, 413, `round ${round}: ${text}`);
        assert.equal(text, 'too big');
      } finally {
        session.destroy();
      }
    }
  });
});

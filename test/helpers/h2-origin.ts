import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { OriginTls } from './origin.js';

/** What `/echo` of an HTTP/2 origin answers with. */
export interface H2EchoBody {
  readonly httpVersion: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly bodySha256: string;
  /** The request's trailer fields. */
  readonly trailers: Record<string, string | string[] | undefined>;
}

/** A running HTTP/2 origin. */
export interface H2Origin {
  readonly port: number;
  /** 'localhost:PORT' (the test certificate names localhost). */
  readonly authority: string;
  /** HTTP/2 sessions (connections that chose h2) accepted so far. */
  readonly sessionCount: () => number;
  /** Ends every `/held` response (with the trailer `x-held: released`). */
  releaseHeld(): void;
  /** Sends GOAWAY on every open session and resolves once they have all closed. */
  goAway(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an HTTPS origin on 127.0.0.1, port 0, that speaks HTTP/2 (and HTTP/1.1 too when
 * `allowHTTP1`). Routes: `/hello` → 'hello'; `/echo` → `H2EchoBody` JSON, read after the request's
 * trailers; `/trailers` → body 'with trailers' followed by the trailer fields `x-checksum: abc` and
 * `x-count: 2`; `/unsized` → 'a body of unknown size' without a content-length; `/held` →
 * 'hello' with its content-length, the stream then held open until `releaseHeld()`; anything else → 404.
 */
export async function startH2Origin(tls: OriginTls, options: { allowHTTP1: boolean }): Promise<H2Origin> {
  const held = new Set<Http2ServerResponse>();
  const server = http2.createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: options.allowHTTP1 }, (req, res) => {
    if (new URL(req.url, 'https://origin.invalid').pathname !== '/held') return route(req, res);
    // The whole declared body at once, then the stream held open until the test releases it.
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 });
    res.write('hello');
    held.add(res);
  });
  const sessions = new Set<ServerHttp2Session>();
  let sessionCount = 0;
  server.on('session', (session: ServerHttp2Session) => {
    sessionCount += 1;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    authority: `localhost:${port}`,
    sessionCount: () => sessionCount,
    releaseHeld: () => {
      for (const res of held) {
        res.addTrailers({ 'x-held': 'released' });
        res.end();
      }
      held.clear();
    },
    goAway: async () => {
      const closing = [...sessions].map((session) => once(session, 'close'));
      for (const session of sessions) session.close();
      await Promise.all(closing);
    },
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

function route(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const path = new URL(req.url, 'https://origin.invalid').pathname;
  if (path === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 }).end('hello');
  } else if (path === '/unsized') {
    // No content-length and no trailers: only END_STREAM says where the body ends.
    res.writeHead(200, { 'content-type': 'text/plain' }).end('a body of unknown size');
  } else if (path === '/echo') {
    void echo(req, res);
  } else if (path === '/trailers') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.addTrailers({ 'x-checksum': 'abc', 'x-count': '2' });
    res.end('with trailers');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function echo(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const answer: H2EchoBody = {
    httpVersion: req.httpVersion,
    method: req.method,
    url: req.url,
    headers: { ...req.headers },
    body: body.toString('utf8'),
    bodySha256: createHash('sha256').update(body).digest('hex'),
    trailers: { ...req.trailers },
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
}

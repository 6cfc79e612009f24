import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenLocal } from './listen.js';

/** What `/echo` answers with. */
export interface EchoBody {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly bodyBytes: number;
  readonly bodySha256: string;
  /** The origin-side port of the TCP connection the request came in on. */
  readonly remotePort: number | undefined;
}

/** Progress of the `/big` response being written, for backpressure tests. */
export interface BigEvents {
  /** `res.write()` returned false: the origin now waits for 'drain'. */
  stall: [written: number];
  /** The wait is over; the origin writes again. */
  drain: [written: number];
  /** Every byte was handed to the socket. */
  finish: [written: number];
}

/** A running test origin. */
export interface Origin {
  readonly url: string;
  readonly port: number;
  /** 'localhost:PORT', the authority clients put in URLs (the certificate names localhost). */
  readonly authority: string;
  /** TCP connections accepted so far. */
  readonly connectionCount: () => number;
  /** Emits the `BigEvents` of each `/big` response. */
  readonly big: EventEmitter<BigEvents>;
  close(): Promise<void>;
}

/** TLS material for an HTTPS origin. */
export interface OriginTls {
  readonly cert: string;
  readonly key: string;
}

const BIG_CHUNK = 64 * 1024;
// 251 is prime, so the pattern never lines up with chunk or buffer boundaries.
const PATTERN_PERIOD = 251;
const PATTERN = Buffer.from(Array.from({ length: PATTERN_PERIOD + BIG_CHUNK }, (_, i) => (i % PATTERN_PERIOD) ^ 0x5a));

/** The bytes of `/big` from `offset`, `length` long (at most 64 KiB). */
export function bigBytes(offset: number, length: number): Buffer {
  const start = offset % PATTERN_PERIOD;
  return PATTERN.subarray(start, start + length);
}

/** The sha256 (hex) of the first `n` bytes of `/big`, computed independently of the origin's streaming. */
export function bigSha256(n: number): string {
  const hash = createHash('sha256');
  for (let offset = 0; offset < n; offset += BIG_CHUNK) hash.update(bigBytes(offset, Math.min(BIG_CHUNK, n - offset)));
  return hash.digest('hex');
}

/**
 * Starts an origin on 127.0.0.1, port 0: HTTPS when `tls` is given, plain HTTP otherwise.
 * Routes: `/hello` → 'hello'; `/echo` → `EchoBody` JSON; `/big?bytes=N` → N pattern bytes
 * streamed with backpressure; `/slow-head` → reads the request, never answers;
 * `/status?code=N` → that status; `/headers?name=value…` → those response headers, body 'ok'.
 */
export async function startOrigin(tls?: OriginTls): Promise<Origin> {
  const big = new EventEmitter<BigEvents>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => route(req, res, big);
  // A 1 MiB head limit: the proxy, not the origin, must enforce the 16 KiB one, so a proxy that
  // forwarded an oversized head would get a 200 here and fail the header-size tests.
  const limits = { maxHeaderSize: 1024 * 1024 };
  const server: Server = tls ? createHttpsServer({ ...limits, cert: tls.cert, key: tls.key }, handler) : createHttpServer(limits, handler);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  const { port, close } = await listenLocal(server);
  return {
    url: `${tls ? 'https' : 'http'}://localhost:${port}`,
    port,
    authority: `localhost:${port}`,
    connectionCount: () => connections,
    big,
    close,
  };
}

function route(req: IncomingMessage, res: ServerResponse, big: EventEmitter<BigEvents>): void {
  const url = new URL(req.url ?? '/', 'http://origin.invalid');
  switch (url.pathname) {
    case '/hello':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 }).end('hello');
      return;
    case '/echo':
      void echo(req, res);
      return;
    case '/big':
      sendBig(res, Number(url.searchParams.get('bytes') ?? '0'), big);
      return;
    case '/slow-head':
      // Consume the body so the proxy is not held up sending it, then say nothing.
      req.resume();
      return;
    case '/status':
      res.writeHead(Number(url.searchParams.get('code') ?? '200'), { 'content-type': 'text/plain' }).end('status');
      return;
    case '/headers': {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      for (const [name, value] of url.searchParams) headers[name] = value;
      res.writeHead(200, headers).end('ok');
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function echo(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const answer: EchoBody = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body: body.toString('utf8'),
    bodyBytes: body.length,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    remotePort: req.socket.remotePort,
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
}

function sendBig(res: ServerResponse, total: number, big: EventEmitter<BigEvents>): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let written = 0;
  const writeMore = (): void => {
    while (written < total) {
      const length = Math.min(BIG_CHUNK, total - written);
      const chunk = bigBytes(written, length);
      written += length;
      if (!res.write(chunk)) {
        big.emit('stall', written);
        res.once('drain', () => {
          big.emit('drain', written);
          writeMore();
        });
        return;
      }
    }
    res.end();
    big.emit('finish', written);
  };
  writeMore();
}

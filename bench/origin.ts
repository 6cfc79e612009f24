// The benchmark's origin: HTTPS/1.1 on one port and HTTP/2 (with HTTP/1.1 fallback) on another,
// both on 0.0.0.0 so every 127.x.y.z address reaches them. Started by bench/run.ts as
//   node bench/results/build/bench/origin.js --cert FILE --key FILE
// and prints {"h1Port":N,"h2Port":N} once listening. Routes:
//   GET /1k          1024 bytes
//   GET /bytes/N     N bytes, streamed with backpressure
//   PUT|POST /upload the body is counted and dropped; the answer is the byte count as text
//   WebSocket /ws    (HTTP/1.1 port) echoes every message back as it came
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

/** What both response types (HTTP/1.1 and the HTTP/2 compatibility API) offer. */
interface Sink {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array | string): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

const BLOCK = Buffer.alloc(1 << 20);
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = (i * 2654435761) >>> 24;
const ONE_K = BLOCK.subarray(0, 1024);

const { values } = parseArgs({ options: { cert: { type: 'string' }, key: { type: 'string' } } });
const tls = { cert: readFileSync(values.cert ?? ''), key: readFileSync(values.key ?? '') };

function handle(req: Readable & { method?: string | undefined; url?: string | undefined }, res: Sink): void {
  const url = req.url ?? '/';
  const bytes = /^\/bytes\/(\d+)$/.exec(url);
  if (req.method === 'GET' && url.startsWith('/1k')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ONE_K.length });
    res.end(ONE_K);
  } else if (req.method === 'GET' && bytes) {
    stream(res, Number(bytes[1]));
  } else if ((req.method === 'PUT' || req.method === 'POST') && url === '/upload') {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on('end', () => {
      const text = String(received);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': text.length });
      res.end(text);
    });
  } else {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  }
}

function stream(res: Sink, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const h1 = createServer({ ...tls, keepAliveTimeout: 120_000 }, handle);
const h2 = createSecureServer({ ...tls, allowHTTP1: true }, handle);
h1.headersTimeout = 120_000;
const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
echo.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
h1.on('upgrade', (req, socket, head) => {
  if (req.url !== '/ws') return void socket.destroy();
  echo.handleUpgrade(req, socket, head, (ws) => echo.emit('connection', ws, req));
});
h1.listen(0, '0.0.0.0');
h2.listen(0, '0.0.0.0');
await Promise.all([once(h1, 'listening'), once(h2, 'listening')]);
console.log(JSON.stringify({ h1Port: (h1.address() as AddressInfo).port, h2Port: (h2.address() as AddressInfo).port }));
process.on('SIGTERM', () => process.exit(0));

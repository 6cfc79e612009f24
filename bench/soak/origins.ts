// The soak's local origins, in the runner's process: HTTPS/1.1 (with a WebSocket echo) and HTTP/2
// (with HTTP/1.1 fallback), both on 127.0.0.1. Routes:
//   GET /1k           1024 bytes                     GET /bytes/N   N bytes, with backpressure
//   POST /upload      counts the body, answers it    GET /sse       5 server-sent events, then ends
//   GET /reset        a short body, then the connection cut WebSocket /ws  (HTTP/1.1 port) echo
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

/** The started origins and how to stop them. */
export interface SoakOrigins {
  readonly h1Port: number;
  readonly h2Port: number;
  close(): Promise<void>;
}

const BLOCK = Buffer.alloc(1 << 16, 0x61);

type Req = IncomingMessage | Http2ServerRequest;
/** What both response types (HTTP/1.1 and the HTTP/2 compatibility API) offer. */
interface Res {
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  write(chunk: Uint8Array | string, callback?: () => void): boolean;
  end(chunk?: Uint8Array | string): unknown;
  once(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: () => void): unknown;
}

function handle(req: Req, response: ServerResponse | Http2ServerResponse): void {
  const res = response as Res;
  const url = req.url ?? '/';
  const bytes = /^\/bytes\/(\d+)$/.exec(url);
  if (url === '/1k') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1024 });
    res.end(BLOCK.subarray(0, 1024));
  } else if (bytes) {
    send(res, Number(bytes[1]));
  } else if (url === '/upload') {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on('end', () => res.end(String(received)));
  } else if (url === '/sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < 5; i += 1) res.write(`id: ${i}\nevent: tick\ndata: ${'x'.repeat(100)}\n\n`);
    res.end();
  } else if (url === '/reset' && 'socket' in req && req.socket !== null && !('stream' in req)) {
    res.writeHead(200, { 'content-length': 1 << 20 });
    res.write(BLOCK, () => (req.socket as Socket).destroy());
  } else {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  }
}

function send(res: Res, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('error', () => undefined);
  pump();
}

/** Starts both origins with `tls` (a certificate for localhost; the proxy runs with --insecure). */
export async function startSoakOrigins(tls: { cert: string; key: string }): Promise<SoakOrigins> {
  const h1 = createServer({ ...tls, keepAliveTimeout: 30_000 }, handle);
  const h2 = createSecureServer({ ...tls, allowHTTP1: true }, handle);
  const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  echo.on('connection', (ws) => {
    // The fuzzer sends broken frames through the proxy: the echo just closes on them.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  h1.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url !== '/ws') {
      socket.destroy();
      return;
    }
    echo.handleUpgrade(req, socket, head, (ws) => echo.emit('connection', ws, req));
  });
  h1.on('clientError', (_error, socket: Socket) => socket.destroy());
  h1.listen(0, '127.0.0.1');
  h2.listen(0, '127.0.0.1');
  await Promise.all([once(h1, 'listening'), once(h2, 'listening')]);
  return {
    h1Port: (h1.address() as AddressInfo).port,
    h2Port: (h2.address() as AddressInfo).port,
    close: async () => {
      for (const ws of echo.clients) ws.terminate();
      h1.closeAllConnections();
      await Promise.all([new Promise((resolve) => h1.close(resolve)), new Promise((resolve) => h2.close(resolve))]);
    },
  };
}

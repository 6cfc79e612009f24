import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenLocal } from './listen.js';
import type { OriginTls } from './origin.js';

/** An origin whose every request goes to a handler the test writes. */
export interface CustomOrigin {
  /** `http(s)://localhost:PORT` (the test certificate names localhost). */
  readonly url: string;
  readonly port: number;
  /** Requests received so far: proves whether the proxy forwarded or answered by itself. */
  readonly requestCount: () => number;
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1, port 0: HTTPS when `tls` is given, plain HTTP otherwise. */
export async function startCustomOrigin(handler: RequestListener, tls?: OriginTls): Promise<CustomOrigin> {
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
  let requests = 0;
  server.on('request', () => {
    requests += 1;
  });
  const { port, close } = await listenLocal(server);
  return {
    url: `${tls ? 'https' : 'http'}://localhost:${port}`,
    port,
    requestCount: () => requests,
    close,
  };
}

// The `--metrics` listener: GET /metrics (Prometheus text format) and GET /healthz, nothing else.
// Separate from the proxy port so a scraper never needs proxy credentials and the proxy port never
// answers anything but proxy traffic.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MitmError } from '../errors.js';
import type { Registry } from 'prom-client';

/** A running metrics listener. */
export interface MetricsServer {
  /** `http://HOST:PORT`, where /metrics and /healthz are served. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `host:port`; connections from addresses `allow` refuses are closed unanswered. */
export async function startMetricsServer(
  registry: Registry,
  listen: { host: string; port: number },
  allow: ((address: string) => boolean) | undefined,
): Promise<MetricsServer> {
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    if (allow !== undefined && !allow(socket.remoteAddress ?? '')) socket.destroy();
  });
  server.listen(listen.port, listen.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw new MitmError('listen_failed', `cannot listen for --metrics on ${listen.host}:${listen.port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

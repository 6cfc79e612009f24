import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { MitmError } from '../errors.js';
import { UiAccess } from './http/access.js';
import { handleRequest } from './http/api-routes.js';
import { defaultAssetsDir } from './http/assets.js';
import { PushHub } from './http/push-hub.js';
import type { UiSource } from './sources/source.js';

/** Options of `startUi`. */
export interface UiOptions {
  /** Listen address; default 127.0.0.1. Anything but loopback exposes decrypted traffic to the network (still behind the token). */
  readonly host?: string;
  /** Listen port; default 8081, 0 for a free one. */
  readonly port?: number;
  /** Where flows come from: `proxySource(proxy)` or `storeSource(store)`. */
  readonly source: UiSource;
  /** The access token; default a random one (24 bytes, base64url). */
  readonly token?: string;
  /** The built front end; default dist/ui/public (docs/ui.md). */
  readonly assetsDir?: string;
  /** Push batching in ms (default 100). */
  readonly batchMs?: number;
}

/** A running inspector. */
export interface RunningUi {
  /** `http://HOST:PORT/?token=…`: open it once; the page then keeps the token in a cookie. */
  readonly url: string;
  /** `http://HOST:PORT`, without the token. */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** True when it listens on a non-loopback address (callers should warn). */
  readonly exposed: boolean;
  /** Stops listening, closes every page's push channel and releases the source's listeners. */
  close(): Promise<void>;
}

/** Starts the web inspector over `source` (docs/ui.md); resolves once it listens. */
export async function startUi(options: UiOptions): Promise<RunningUi> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MitmError('listen_failed', `the inspector cannot listen on ${host}:${options.port ?? 8081}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen(options.port ?? 8081, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const access = new UiAccess({ host, port, token: options.token });
  const hub = new PushHub(options.source, access, { batchMs: options.batchMs ?? 100 });
  const assetsDir = options.assetsDir ?? defaultAssetsDir();
  server.on('request', (req, res) => {
    void handleRequest(req, res, { source: options.source, access, assetsDir });
  });
  server.on('upgrade', (req, socket, head) => hub.upgrade(req, socket, head));
  server.on('error', () => undefined);
  server.on('clientError', (_error, socket) => socket.destroy());
  const shown = isIP(host) === 6 ? `[${host}]` : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const origin = `http://${shown}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${access.token}`,
    origin,
    host,
    port,
    token: access.token,
    exposed: !isLoopback(host),
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.close();
        options.source.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startCustomOrigin, type CustomOrigin } from './custom-origin.js';
import type { OriginTls } from './origin.js';

/** An origin for the store suites whose answers a test can change (`version`), to see replay notice. */
export interface StoreOrigin extends CustomOrigin {
  version: number;
}

/**
 * Routes: `/json` (JSON naming `version`), `/text`, `/gz` (gzip text), `POST /echo` (the body back),
 * `/missing` (404), `/set-cookie` (a cookie).
 */
export async function startStoreOrigin(tls?: OriginTls): Promise<StoreOrigin> {
  const state = { version: 1 };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ version: state.version, path: req.url }));
      } else if (path === '/text') {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`hello ${state.version}\n`);
      } else if (path === '/gz') {
        res.setHeader('content-type', 'text/plain');
        res.setHeader('content-encoding', 'gzip');
        res.end(gzipSync(`compressed ${state.version} `.repeat(50)));
      } else if (path === '/echo' && req.method === 'POST') {
        res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
        res.end(Buffer.concat(chunks));
      } else if (path === '/set-cookie') {
        res.setHeader('set-cookie', 'session=abc; Path=/; HttpOnly');
        res.setHeader('content-type', 'text/plain');
        res.end('ok');
      } else {
        res.statusCode = 404;
        res.setHeader('content-type', 'text/plain');
        res.end('not found');
      }
    });
  };
  const origin = await startCustomOrigin(handler, tls);
  // A property whose setter reaches the handler (Object.assign would copy the getter's value only).
  return Object.defineProperty(origin, 'version', {
    get: () => state.version,
    set: (value: number) => {
      state.version = value;
    },
    enumerable: true,
  }) as StoreOrigin;
}

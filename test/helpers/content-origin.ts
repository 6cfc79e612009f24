import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { listenLocal } from './listen.js';

/** A running plain-HTTP origin for recording tests. */
export interface ContentOrigin {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/** The first `n` bytes of the text `/gzip` serves: numbered ASCII lines, so any prefix is recognisable. */
export function lineText(n: number): string {
  let text = '';
  for (let line = 1; text.length < n; line += 1) text += `line ${line} of the recorded text\n`;
  return text.slice(0, n);
}

/**
 * Starts an origin on 127.0.0.1, port 0. Routes: `/gzip?bytes=N` → `lineText(N)` as text/plain,
 * gzip-encoded with its compressed Content-Length; `/cookies` → two Set-Cookie headers, body 'ok'.
 */
export async function startContentOrigin(): Promise<ContentOrigin> {
  const server = createServer(route);
  const { port, close } = await listenLocal(server);
  return { url: `http://127.0.0.1:${port}`, close };
}

function route(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://origin.invalid');
  switch (url.pathname) {
    case '/gzip': {
      const body = gzipSync(lineText(Number(url.searchParams.get('bytes') ?? '0')));
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip', 'content-length': body.length });
      res.end(body);
      return;
    }
    case '/cookies':
      res.setHeader('set-cookie', ['session=abc123; Path=/; HttpOnly; Secure', 'theme=dark; Max-Age=3600']);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

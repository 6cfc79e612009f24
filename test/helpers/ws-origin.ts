import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type PerMessageDeflateOptions, type RawData, type WebSocket } from 'ws';
import { within } from './deadline.js';
import { listenLocal } from './listen.js';
import type { OriginTls } from './origin.js';

/** A WebSocket (either end) and what it received. */
export interface WatchedSocket {
  readonly ws: WebSocket;
  /** Messages received, in order. */
  readonly messages: Array<{ readonly data: Buffer; readonly isBinary: boolean }>;
  /** Resolves with the close code and reason the origin received. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `n` messages have arrived. */
  received(n: number): Promise<void>;
}

/** One accepted WebSocket on the origin. */
export interface OriginSocket extends WatchedSocket {
  /** The upgrade request as the origin got it. */
  readonly request: IncomingMessage;
}

/** A running WebSocket origin. */
export interface WsOrigin {
  readonly port: number;
  /** `ws://localhost:PORT` or `wss://localhost:PORT`. */
  readonly url: string;
  /** The next connection the origin accepts (or the first one not yet taken). */
  nextSocket(): Promise<OriginSocket>;
  close(): Promise<void>;
}

/** How the origin behaves. */
export interface WsOriginOptions {
  readonly tls?: OriginTls;
  /** permessage-deflate as the origin offers to accept it; off when undefined. */
  readonly perMessageDeflate?: PerMessageDeflateOptions;
  /** Send every message straight back (default true). */
  readonly echo?: boolean;
}

/**
 * Starts a `ws` origin on 127.0.0.1, port 0. Of the subprotocols a client offers it picks the
 * second (the first when only one is offered), so a proxy that chose by itself would be caught.
 * An upgrade to `/refuse` is answered `403` with the body `refused`.
 */
export async function startWsOrigin(options: WsOriginOptions = {}): Promise<WsOrigin> {
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: options.perMessageDeflate ?? false,
    handleProtocols: (offered) => [...offered][1] ?? [...offered][0] ?? false,
  });
  const accepted: OriginSocket[] = [];
  const waiting: Array<(socket: OriginSocket) => void> = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nrefused');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry = { ...watchSocket(ws, options.echo ?? true), request: req };
      const waiter = waiting.shift();
      if (waiter) waiter(entry);
      else accepted.push(entry);
    });
  });
  const listening = await listenLocal(server);
  const { port } = listening;
  return {
    port,
    url: `${options.tls ? 'wss' : 'ws'}://localhost:${port}`,
    nextSocket: () => {
      const ready = accepted.shift();
      if (ready) return Promise.resolve(ready);
      let taker: (socket: OriginSocket) => void = () => undefined;
      const next = new Promise<OriginSocket>((resolve) => {
        taker = resolve;
        waiting.push(resolve);
      });
      // On a timeout the waiter leaves the queue, so a later connection is not handed to nobody.
      return within(next, 'the WebSocket origin to accept a connection').finally(() => {
        const at = waiting.indexOf(taker);
        if (at >= 0) waiting.splice(at, 1);
      });
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await listening.close();
    },
  };
}

/** Starts recording what `ws` receives (attach before it can receive anything); `echo` sends each message back. */
export function watchSocket(ws: WebSocket, echo = false): WatchedSocket {
  const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  const wakers = new Set<() => void>();
  let ended: { code: number; reason: string } | undefined;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    messages.push({ data: bytes, isBinary });
    for (const wake of wakers) wake();
    if (echo) ws.send(bytes, { binary: isBinary });
  });
  // A socket that fails (a corrupt frame, say) must fail the waiting test at once, not leave it hanging.
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => {
      ended = { code, reason: reason.toString('utf8') };
      for (const wake of wakers) wake();
      resolve(ended);
    });
  });
  return {
    ws,
    messages,
    closed,
    received: (n) => {
      let check = (): void => undefined;
      const arrived = new Promise<void>((resolve, reject) => {
        check = (): void => {
          if (messages.length >= n) resolve();
          else if (ended) reject(new Error(`closed (${ended.code} ${ended.reason}) after ${messages.length} of ${n} messages`));
        };
      });
      wakers.add(check);
      check();
      return within(arrived, () => `${n} messages (${messages.length} arrived)`).finally(() => wakers.delete(check));
    },
  };
}

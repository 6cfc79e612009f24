import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';
import { watchSocket, type WatchedSocket } from './ws-origin.js';

/** A client WebSocket after its handshake, with the 101 it got. */
export interface OpenClient extends WatchedSocket {
  readonly handshake: IncomingMessage;
}

/** Opens a client WebSocket and waits for the handshake; rejects with what the proxy answered instead. */
export async function openClient(url: string, protocols: string[], options: ClientOptions): Promise<OpenClient> {
  const ws = new WebSocket(url, protocols, options);
  const watched = watchSocket(ws);
  const handshake = once(ws, 'upgrade') as Promise<[IncomingMessage]>;
  const failed = refusal(ws).then((answer) => {
    throw new Error(`the upgrade was answered ${answer.status}: ${answer.body}`);
  });
  await Promise.race([once(ws, 'open'), failed]);
  return { ...watched, handshake: (await handshake)[0] };
}

/** What the client got instead of a 101. */
export interface Refusal {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Resolves with the non-101 answer to a client's upgrade request. */
export function refusal(ws: WebSocket): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
}

/** Resolves with the close code and reason a client saw. */
export function clientClosed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
}

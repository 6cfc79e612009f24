import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { listenLocal } from './listen.js';
import { Recorder } from './proxy.js';

/** A TCP server on 127.0.0.1 that accepts connections and never says a word on them. */
export interface SilentServer {
  readonly port: number;
  /** Every connection accepted so far, in order; `waitFor` the next one. */
  readonly connections: Recorder<Socket>;
  /** Resolves once every connection accepted so far has closed. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a server that accepts and stays silent: a TLS origin whose handshake never completes, or an
 * upstream proxy that never answers CONNECT. Its sockets close only when the peer closes them.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const connections = new Recorder<Socket>();
  const closed = new WeakMap<Socket, Promise<unknown>>();
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    closed.set(socket, once(socket, 'close'));
    // Read (and drop) what arrives: unread bytes would hold back the peer's FIN, and 'close' with it.
    socket.resume();
    connections.push(socket);
  });
  const listening = await listenLocal(server);
  return {
    port: listening.port,
    connections,
    allClosed: async () => {
      await Promise.all(connections.items.map((socket) => closed.get(socket)));
    },
    close: () => listening.close(),
  };
}

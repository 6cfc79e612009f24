import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A test server listening on 127.0.0.1. */
export interface Listening {
  readonly port: number;
  /** Stops listening and destroys every open connection, so the close is prompt. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with a free port, tracking connections so `close()` does not wait on keep-alive. */
export async function listenLocal(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A port nothing listens on: bound once on 127.0.0.1 to learn a free number, then closed. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

// The fuzzed proxy's only way out: an upstream HTTP proxy on 127.0.0.1 that sends every CONNECT,
// whatever its target, to the local origin, and answers every absolute-form request itself. With
// it as --upstream-proxy, mutated targets (random names and addresses) never leave the machine.
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** The started sink. */
export interface Sink {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the sink; CONNECTs go to 127.0.0.1:`originPort`. */
export async function startSink(originPort: number): Promise<Sink> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('sink');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket: Socket) => socket.destroy());
  server.on('connect', (_req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const origin = connect(originPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) origin.write(head);
      client.pipe(origin).pipe(client);
    });
    sockets.add(origin);
    origin.once('close', () => {
      sockets.delete(origin);
      client.destroy();
    });
    origin.on('error', () => client.destroy());
    client.once('close', () => origin.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

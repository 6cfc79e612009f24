import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * The first flight a real Node TLS client sends (its ClientHello, offering `alpn` when given, and
 * TLS versions up to `maxVersion`), captured by a TCP server.
 */
export async function captureClientHello(servername: string, alpn?: string[], maxVersion?: 'TLSv1.2'): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const port = (server.address() as AddressInfo).port;
  const client = tlsConnect({
    host: '127.0.0.1',
    port,
    servername,
    ...(alpn ? { ALPNProtocols: alpn } : {}),
    ...(maxVersion ? { maxVersion } : {}),
  });
  client.on('error', () => {});
  const [socket] = await accepted;
  const chunks: Buffer[] = [];
  let hello = Buffer.alloc(0);
  for await (const chunk of socket) {
    chunks.push(chunk as Buffer);
    hello = Buffer.concat(chunks);
    if (hello.length >= 5 && hello.length >= 5 + hello.readUInt16BE(3)) break;
  }
  client.destroy();
  socket.destroy();
  server.close();
  return hello;
}

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { parseClientHelloSni } from '../../src/tls/client-hello.js';

/** The first flight a real Node TLS client sends (its ClientHello), captured by a TCP server. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername });
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

test('reads the SNI of a real ClientHello, and says when there is none', async () => {
  assert.equal(parseClientHelloSni(await captureClientHello('api.example.test')), 'api.example.test');
  assert.equal(parseClientHelloSni(await captureClientHello('')), '');
});

test('asks for more bytes until the record is complete, and gives up on what is not a ClientHello', async () => {
  const hello = await captureClientHello('more.test');
  assert.equal(parseClientHelloSni(hello.subarray(0, 3)), 'incomplete');
  assert.equal(parseClientHelloSni(hello.subarray(0, hello.length - 1)), 'incomplete');
  assert.equal(parseClientHelloSni(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
  assert.equal(parseClientHelloSni(Buffer.of(0x16, 3, 1, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff)), undefined);
  // A ClientHello whose fields claim more bytes than the record holds.
  const truncated = Buffer.from(hello);
  truncated.writeUInt16BE(60, 3);
  truncated.writeUIntBE(56, 6, 3);
  assert.equal(parseClientHelloSni(truncated.subarray(0, 65)), undefined);
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { HandshakeReader } from '../../src/net/handshake-reader.js';
import { encodeAddress, encodeReply, readAddress, replyText, socksConnect, SocksClientError } from '../../src/net/socks5-wire.js';

test('addresses encode as ATYP + address + port, and read back canonically', async () => {
  const cases = [
    ['192.0.2.1', 443, [1, 192, 0, 2, 1, 1, 187]],
    ['example.test', 80, [3, 12, ...Buffer.from('example.test'), 0, 80]],
    ['::1', 8080, [4, ...Array<number>(15).fill(0), 1, 0x1f, 0x90]],
  ] as const;
  for (const [host, port, bytes] of cases) {
    const encoded = encodeAddress(host, port);
    assert.deepEqual([...encoded], bytes, host);
    const stream = new PassThrough();
    const reader = new HandshakeReader(stream);
    stream.end(encoded);
    const read = await readAddress(reader);
    assert.deepEqual({ host: read.host, port: read.port }, { host, port });
  }
  assert.deepEqual([...encodeReply(0x05)], [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(replyText(0x05), 'connection refused (reply 5)');
  assert.equal(replyText(0x42), 'unknown failure (reply 66)');
});

test('the handshake reader keeps bytes that arrive beyond the handshake for the next reader', async () => {
  const stream = new PassThrough();
  const reader = new HandshakeReader(stream);
  stream.write(Buffer.from('HTTP/1.1 200 OK\r\n\r\nfirst tunnel bytes'));
  assert.equal((await reader.readUntil('\r\n\r\n', 100)).toString(), 'HTTP/1.1 200 OK\r\n\r\n');
  reader.release();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.end(' and more');
  await once(stream, 'end');
  assert.equal(Buffer.concat(chunks).toString(), 'first tunnel bytes and more');
});

test('the handshake reader rejects when the peer closes early or sends too much without a delimiter', async () => {
  const early = new PassThrough();
  const reader = new HandshakeReader(early);
  early.end(Buffer.of(5));
  await assert.rejects(reader.read(2), /closed/);
  const chatty = new PassThrough();
  const flood = new HandshakeReader(chatty);
  chatty.write(Buffer.alloc(64, 0x41));
  await assert.rejects(flood.readUntil('\r\n\r\n', 32), /within 32 bytes/);
});

/** A one-shot SOCKS5 server answering with `script` after each client message it expects. */
async function scriptedServer(replies: Buffer[]): Promise<{ port: number; received: Buffer[]; close(): void }> {
  const received: Buffer[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const reply = replies.shift();
      if (reply) socket.write(reply);
      else socket.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, received, close: () => server.close() };
}

test('socksConnect authenticates when asked and reports failure replies', async () => {
  const ok = await scriptedServer([Buffer.of(5, 2), Buffer.of(1, 0), Buffer.of(5, 0, 0, 1, 0, 0, 0, 0, 0, 0)]);
  const socket = connect(ok.port, '127.0.0.1');
  await once(socket, 'connect');
  const reader = new HandshakeReader(socket);
  await socksConnect(socket, reader, { host: 'example.test', port: 443 }, { user: 'u', password: 'pw' });
  reader.release();
  socket.destroy();
  ok.close();
  assert.deepEqual([...(ok.received[0] ?? [])], [5, 2, 0, 2]);
  assert.deepEqual([...(ok.received[1] ?? [])], [1, 1, 0x75, 2, 0x70, 0x77]);
  assert.deepEqual([...(ok.received[2] ?? [])], [5, 1, 0, 3, 12, ...Buffer.from('example.test'), 1, 187]);

  const refused = await scriptedServer([Buffer.of(5, 0), Buffer.of(5, 5, 0, 1, 0, 0, 0, 0, 0, 0)]);
  const second = connect(refused.port, '127.0.0.1');
  await once(second, 'connect');
  await assert.rejects(
    socksConnect(second, new HandshakeReader(second), { host: '192.0.2.1', port: 80 }, undefined),
    (error: unknown) => error instanceof SocksClientError && error.reply === 5 && error.message === 'connection refused (reply 5)',
  );
  second.destroy();
  refused.close();
});

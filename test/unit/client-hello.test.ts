import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientHello } from '../../src/tls/client-hello.js';

/** The SNI of a ClientHello, 'incomplete', or undefined: what the parser says of its server name. */
function parseClientHelloSni(bytes: Buffer): string | 'incomplete' | undefined {
  const hello = parseClientHello(bytes);
  return typeof hello === 'object' ? hello.servername : hello;
}
import { captureClientHello } from '../helpers/client-hello.js';

test('reads the SNI of a real ClientHello, and says when there is none', async () => {
  assert.equal(parseClientHelloSni(await captureClientHello('api.example.test')), 'api.example.test');
  assert.equal(parseClientHelloSni(await captureClientHello('')), '');
});

test('reads the ALPN protocols a real ClientHello offers, in its order; none is an empty list', async () => {
  assert.deepEqual(parseClientHello(await captureClientHello('alpn.test', ['h2', 'http/1.1'])), {
    servername: 'alpn.test',
    alpn: ['h2', 'http/1.1'],
    tls13: true,
  });
  assert.deepEqual(parseClientHello(await captureClientHello('alpn.test', ['http/1.1'])), {
    servername: 'alpn.test',
    alpn: ['http/1.1'],
    tls13: true,
  });
  assert.deepEqual(parseClientHello(await captureClientHello('')), { servername: '', alpn: [], tls13: true });
});

test('tells a ClientHello offering TLS 1.3 from one offering at most TLS 1.2', async () => {
  assert.deepEqual(parseClientHello(await captureClientHello('', undefined, 'TLSv1.2')), { servername: '', alpn: [], tls13: false });
  assert.equal((parseClientHello(await captureClientHello('v12.test', undefined, 'TLSv1.2')) as { tls13: boolean }).tls13, false);
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

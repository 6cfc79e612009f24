// Property tests of the SOCKS5 handshake (issue #16): readAddress round-trips encodeAddress, and a
// live proxy fed arbitrary (or mutated valid) handshakes answers or closes every connection, and
// still serves a well-formed one. An onConnect hook rejects every target, so nothing is dialled.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startProxy, type RunningProxy } from '../../src/index.js';
import { HandshakeReader } from '../../src/net/handshake-reader.js';
import { encodeAddress, readAddress } from '../../src/net/socks5-wire.js';
import { within } from '../helpers/deadline.js';
import { until } from '../helpers/until.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')),
  fc.ipV4(),
  fc.ipV6(),
);

test('readAddress ∘ encodeAddress is the identity (IPv6 in canonical form)', async () => {
  await fc.assert(
    fc.asyncProperty(host, fc.integer({ min: 0, max: 65535 }), async (name, port) => {
      const stream = new PassThrough();
      const reader = new HandshakeReader(stream);
      stream.end(encodeAddress(name, port));
      const got = await readAddress(reader);
      const want = isIP(name) === 6 ? new URL(`http://[${name}]/`).hostname.slice(1, -1) : name;
      assert.deepEqual({ host: got.host, port: got.port }, { host: want, port });
      reader.release();
    }),
    { numRuns: 300 },
  );
});

let proxy: RunningProxy;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mitm-socks-prop-'));
  proxy = await startProxy({ port: 0, ca: dir, hooks: [{ name: 'no-dial', onConnect: () => 'reject' }] });
});
after(async () => {
  await proxy?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Sends `bytes`, half-closes, and resolves with what the proxy answered once it has closed. */
async function exchange(bytes: Buffer): Promise<Buffer> {
  const socket: Socket = connect(proxy.port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = once(socket, 'close');
  socket.end(bytes);
  await within(closed, `the proxy to close a connection that sent ${bytes.toString('hex').slice(0, 80)}`);
  return Buffer.concat(chunks);
}

const VALID = Buffer.concat([Buffer.of(5, 1, 0, 5, 1, 0), encodeAddress('example.test', 443)]);

test('a live proxy: arbitrary bytes after 0x05 are answered or closed, never a crash or hang', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (tail) => {
      await exchange(Buffer.concat([Buffer.of(5), Buffer.from(tail)]));
    }),
    { numRuns: 150 },
  );
  // Still serving: a good handshake gets the method choice, then "not allowed" (the hook's reject).
  const answer = await exchange(VALID);
  assert.deepEqual([...answer.subarray(0, 4)], [5, 0, 5, 2]);
});

test('a live proxy: mutated valid handshakes are answered or closed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
      const bytes = Buffer.from(VALID);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      const answer = await exchange(bytes);
      // A first byte other than 0x05 goes to the HTTP server (a 400); otherwise the answer is SOCKS5 or nothing.
      if (bytes[0] === 5 && answer.length > 0) assert.equal(answer[0], 5);
      if (bytes[0] !== 5 && answer.length > 0) assert.match(answer.toString('latin1'), /^HTTP\/1\.1 4\d\d /);
    }),
    { numRuns: 150 },
  );
  await until(() => proxy.connections === 0, 'every refused connection to close on the proxy side', {
    describe: () => `${proxy.connections} open`,
  });
});

test('regression: a refused handshake (no acceptable method, hook reject) does not leave its socket open', async () => {
  await exchange(Buffer.of(5, 1, 2));
  await exchange(VALID);
  // Before the fix the proxy never read the client's FIN after answering: the socket stayed half-closed.
  await until(() => proxy.connections === 0, 'both refused connections to close on the proxy side', {
    describe: () => `${proxy.connections} open`,
  });
});

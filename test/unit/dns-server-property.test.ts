// Property test of the DNS listener (issue #16): garbage and mutated UDP/TCP messages never crash
// it (an unhandled rejection would end the test process), and it still answers a good query.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { startDnsServer, type DnsServer } from '../../src/inbound/dns-server.js';
import { within } from '../helpers/deadline.js';
import { startDnsUpstream, type DnsUpstream } from '../helpers/dns-upstream.js';

let upstream: DnsUpstream;
let server: DnsServer;
const failures: unknown[] = [];
const onRejection = (reason: unknown): void => {
  failures.push(reason);
};

before(async () => {
  process.on('unhandledRejection', onRejection);
  upstream = await startDnsUpstream({ 'real.test': [{ type: 'A', name: 'real.test', ttl: 60, data: '127.0.0.77' }] });
  server = await startDnsServer({
    host: '127.0.0.1',
    port: 0,
    intercepts: (name) => name.endsWith('api.test'),
    answer: { ipv4: '127.0.0.5', ipv6: '::1' },
    upstream: { host: '127.0.0.1', port: upstream.port },
    timeoutMs: 2_000,
    onQuery: () => undefined,
  });
});
after(async () => {
  process.off('unhandledRejection', onRejection);
  await server?.close();
  await upstream?.close();
});

const QUERY = dnsPacket.encode({
  type: 'query',
  id: 7,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type: 'A', name: 'www.api.test' }],
});

const mutated = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
    const bytes = Buffer.from(QUERY);
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    return bytes;
  }),
);

async function stillAnswers(): Promise<void> {
  const resolver = new Resolver({ timeout: 3_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.address.port}`]);
  assert.deepEqual(await within(resolver.resolve4('api.test'), 'an answer to a good query'), ['127.0.0.5']);
}

test('UDP: garbage and mutated queries never crash the listener', async () => {
  const udp = createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 20 }), async (messages) => {
        for (const message of messages) udp.send(message, server.address.port, '127.0.0.1');
        await stillAnswers();
      }),
      { numRuns: 40 },
    );
  } finally {
    udp.close();
  }
  assert.deepEqual(failures, []);
});

test('TCP: garbage length-prefixed messages never crash the listener', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 5 }), async (messages) => {
      const socket = connect(server.address.port, '127.0.0.1');
      socket.on('error', () => {});
      const closed = once(socket, 'close');
      for (const message of messages) {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      }
      socket.end();
      socket.resume();
      await within(closed, 'the TCP connection to close');
    }),
    { numRuns: 40 },
  );
  await stillAnswers();
  assert.deepEqual(failures, []);
});

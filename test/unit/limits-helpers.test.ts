import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteEventStream, type ServerSentEvent } from '../../src/flow/sse.js';
import { createAddressList, isLoopbackHost, parseCidr } from '../../src/net/cidr.js';
import { defaultMaxConnections, openFileLimit } from '../../src/net/fd-limit.js';

const LIMITS =
  'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 1048576              files\n';

test('the open-file soft limit is read from /proc/self/limits text, and the default sized under it', () => {
  assert.equal(openFileLimit(LIMITS), 1024);
  assert.equal(openFileLimit(LIMITS.replace('1024 ', 'unlimited ')), Number.POSITIVE_INFINITY);
  assert.equal(openFileLimit('nothing here'), undefined);
  assert.equal(defaultMaxConnections(1024), 256);
  assert.equal(defaultMaxConnections(256), 16);
  assert.equal(defaultMaxConnections(1_048_576), 10_000);
});

test('--allow-client blocks: CIDRs, bare addresses, IPv4-mapped IPv6, and what is loopback', () => {
  const allowed = createAddressList(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  assert.ok(allowed('10.200.1.1'));
  assert.ok(allowed('::ffff:10.0.0.1'));
  assert.ok(allowed('192.168.1.7'));
  assert.ok(!allowed('192.168.1.8'));
  assert.ok(allowed('fd12::1'));
  assert.ok(!allowed('not an address'));
  assert.throws(() => parseCidr('10.0.0.0/33'), /not an address or CIDR/);
  assert.throws(() => parseCidr('example.com/8'), /not an address or CIDR/);
  assert.ok(isLoopbackHost('127.0.0.2') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('192.168.1.1'));
});

test('an event-stream block longer than the limit stops parsing: the rest passes through byte for byte', async () => {
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('data: a\n\n');
    yield Buffer.from(`data: ${'x'.repeat(100)}`);
    yield Buffer.from(' still the same line\n\ndata: b\n\n');
  }
  const seen: string[] = [];
  const out: Buffer[] = [];
  const upper = async (event: ServerSentEvent): Promise<ServerSentEvent[]> => {
    seen.push(event.data);
    return [{ ...event, data: event.data.toUpperCase() }];
  };
  for await (const chunk of rewriteEventStream(source(), upper, 50)) out.push(chunk);
  assert.deepEqual(seen, ['a']);
  assert.equal(Buffer.concat(out).toString(), `data: A\n\ndata: ${'x'.repeat(100)} still the same line\n\ndata: b\n\n`);
});

// The DNS listener of `--mode dns`: our address for intercepted names, the upstream resolver's own
// answer (TTL, NXDOMAIN) for everything else, over UDP and TCP; clients are Node's resolver and dig.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { startDnsServer, type DnsQueryRecord, type DnsServer } from '../../src/inbound/dns-server.js';
import { startDnsUpstream, type DnsUpstream } from '../helpers/dns-upstream.js';
import { run } from '../helpers/run.js';

describe('DNS listener', { timeout: 60_000 }, () => {
  let upstream: DnsUpstream;
  let server: DnsServer;
  let resolver: Resolver;
  const queries: DnsQueryRecord[] = [];

  before(async () => {
    upstream = await startDnsUpstream({
      'real.test': [
        { type: 'A', name: 'real.test', ttl: 1234, data: '127.0.0.77' },
        { type: 'TXT', name: 'real.test', ttl: 300, data: 'hello' },
      ],
      'api.test': [{ type: 'A', name: 'api.test', ttl: 300, data: '127.0.0.99' }],
    });
    server = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      intercepts: (name) => name === 'api.test' || name.endsWith('.api.test'),
      answer: { ipv4: '127.0.0.5', ipv6: undefined },
      upstream: { host: '127.0.0.1', port: upstream.port },
      timeoutMs: 5_000,
      onQuery: (record) => {
        queries.push(record);
        if (record.name === 'throws.test') throw new Error('a listener bug');
      },
    });
    resolver = new Resolver({ timeout: 5_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.address.port}`]);
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('answers A for an intercepted name with the proxy address, without asking upstream', async () => {
    assert.deepEqual(await resolver.resolve4('api.test'), ['127.0.0.5']);
    assert.deepEqual(await resolver.resolve4('www.API.test'), ['127.0.0.5']);
    assert.equal(upstream.seen.get('api.test/A'), undefined);
    assert.ok(queries.some((q) => q.name === 'api.test' && q.answeredBy === 'proxy' && q.transport === 'udp'));
  });

  it('answers AAAA for an intercepted name with no address when the listener has no IPv6 one', async () => {
    await assert.rejects(resolver.resolve6('api.test'), (error: NodeJS.ErrnoException) => error.code === 'ENODATA');
  });

  it('forwards other names and keeps the upstream TTL, record types and NXDOMAIN', async () => {
    assert.deepEqual(await resolver.resolve4('real.test', { ttl: true }), [{ address: '127.0.0.77', ttl: 1234 }]);
    assert.deepEqual(await resolver.resolveTxt('real.test'), [['hello']]);
    await assert.rejects(resolver.resolve4('missing.test'), (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND');
    assert.equal(upstream.seen.get('missing.test/A'), 1);
  });

  it('serves dig over UDP and over TCP alike', async () => {
    const args = ['@127.0.0.1', '-p', String(server.address.port), '+short', '+tries=1', '+time=5'];
    const udp = await run('dig', [...args, 'api.test', 'A']);
    assert.equal(udp.stdout.toString().trim(), '127.0.0.5', udp.stderr);
    const tcp = await run('dig', [...args, '+tcp', 'real.test', 'A']);
    assert.equal(tcp.stdout.toString().trim(), '127.0.0.77', tcp.stderr);
    const tcpOwn = await run('dig', [...args, '+tcp', 'api.test', 'A']);
    assert.equal(tcpOwn.stdout.toString().trim(), '127.0.0.5', tcpOwn.stderr);
    assert.ok(queries.some((q) => q.name === 'real.test' && q.transport === 'tcp' && q.answeredBy === 'upstream'));
  });

  it('keeps serving when a query listener throws, and answers SERVFAIL when upstream is down', async () => {
    await assert.rejects(resolver.resolve4('throws.test'), (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND');
    const dead = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      intercepts: () => false,
      answer: { ipv4: undefined, ipv6: undefined },
      // A port nothing answers on: UDP queries go unanswered until the deadline.
      upstream: { host: '127.0.0.1', port: 9 },
      timeoutMs: 300,
      onQuery: () => {},
    });
    try {
      const viaDead = new Resolver({ timeout: 5_000, tries: 1 });
      viaDead.setServers([`127.0.0.1:${dead.address.port}`]);
      await assert.rejects(viaDead.resolve4('real.test'), (error: NodeJS.ErrnoException) => error.code === 'ESERVFAIL');
    } finally {
      await dead.close();
    }
    assert.deepEqual(await resolver.resolve4('api.test'), ['127.0.0.5']);
  });
});

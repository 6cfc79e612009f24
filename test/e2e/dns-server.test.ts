// The DNS listener of `--mode dns`: our address for intercepted names, the upstream resolver's own
// answer (TTL, NXDOMAIN) for everything else, over UDP and TCP; clients are Node's resolver and dig.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import type dnsPacket from 'dns-packet';
import { after, before, describe, it } from 'node:test';
import { startDnsServer, type DnsQueryRecord, type DnsServer } from '../../src/inbound/dns-server.js';
import { askDns, startDnsUpstream, type DnsUpstream } from '../helpers/dns-upstream.js';
import { run } from '../helpers/run.js';

// An HTTPS record (RFC 9460, type 65) for real.test as its wire RDATA: priority 1, target ".",
// alpn=h2, ipv4hint=127.0.0.78. dns-packet has no codec for the type and carries it as bytes.
const HTTPS_RDATA = Buffer.from([0, 1, 0, 0, 1, 0, 3, 2, 0x68, 0x32, 0, 4, 0, 4, 127, 0, 0, 78]);
const HTTPS_RECORD = { type: 'UNKNOWN_65', name: 'real.test', ttl: 600, data: HTTPS_RDATA } as unknown as dnsPacket.Answer;

const NOERROR = 0;
const NXDOMAIN = 3;
/** RCODE: the low four bits of the flags word (RFC 1035 §4.1.1). */
const rcode = (packet: dnsPacket.Packet): number => (packet.flags ?? 0) & 0x0f;

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
        HTTPS_RECORD,
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

  for (const transport of ['udp', 'tcp'] as const) {
    it(`answers HTTPS and SVCB queries for an intercepted name NODATA, without asking upstream (${transport})`, async () => {
      for (const [type, name] of [
        ['UNKNOWN_65', 'api.test'],
        ['UNKNOWN_64', `_8443._https.${transport}.api.test`],
      ] as const) {
        const reply = await askDns(server.address.port, transport, { type: type as dnsPacket.RecordType, name });
        assert.equal(reply.id, 4242);
        assert.equal(reply.type, 'response');
        assert.equal(rcode(reply), NOERROR);
        assert.deepEqual(reply.answers, []);
        assert.deepEqual(
          reply.questions?.map((q) => [q.name, q.type]),
          [[name, type]],
        );
        assert.equal(upstream.seen.get(`${name}/${type}`), undefined, `${name} ${type} was not forwarded`);
      }
      assert.ok(queries.some((q) => q.name === 'api.test' && q.type === 'HTTPS' && q.answeredBy === 'proxy' && q.transport === transport));
      assert.ok(queries.some((q) => q.type === 'SVCB' && q.answeredBy === 'proxy' && q.transport === transport));
    });

    it(`forwards HTTPS queries for other names faithfully, record bytes and TTL kept (${transport})`, async () => {
      const before = upstream.seen.get('real.test/UNKNOWN_65') ?? 0;
      const reply = await askDns(server.address.port, transport, { type: 'UNKNOWN_65' as dnsPacket.RecordType, name: 'real.test' });
      assert.equal(rcode(reply), NOERROR);
      const [record] = (reply.answers ?? []) as Array<{ type: string; ttl?: number; data: unknown }>;
      assert.equal(record?.type, 'UNKNOWN_65');
      assert.equal(record?.ttl, 600);
      assert.deepEqual(record?.data, HTTPS_RDATA);
      assert.equal(upstream.seen.get('real.test/UNKNOWN_65'), before + 1);
      const missing = await askDns(server.address.port, transport, { type: 'UNKNOWN_65' as dnsPacket.RecordType, name: 'missing.test' });
      assert.equal(rcode(missing), NXDOMAIN);
    });
  }

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

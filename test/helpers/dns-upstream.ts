import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

/** A tiny authoritative resolver on 127.0.0.1 (UDP and TCP, one port) for tests: no query leaves the machine. */
export interface DnsUpstream {
  readonly port: number;
  /** How many queries it received, by `name/TYPE`. */
  readonly seen: Map<string, number>;
  close(): Promise<void>;
}

/** Serves `records` (`name` → A/AAAA/TXT answers, with their TTL); other names get NXDOMAIN. */
export async function startDnsUpstream(records: Readonly<Record<string, readonly dnsPacket.Answer[]>>): Promise<DnsUpstream> {
  const seen = new Map<string, number>();
  const reply = (message: Buffer): Buffer => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    const name = question?.name.toLowerCase() ?? '';
    const key = `${name}/${question?.type ?? '?'}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const known = records[name];
    const answers = (known ?? []).filter((answer) => answer.type === question?.type);
    // RCODE 3 (NXDOMAIN) for unknown names, in the low bits of the flags word.
    const rcode = known === undefined ? 3 : 0;
    return dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | rcode,
      questions: query.questions ?? [],
      answers,
    });
  };
  const udp = createSocket('udp4');
  udp.on('message', (message, from) => udp.send(reply(message), from.port, from.address));
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const tcp = createServer((socket) => {
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const answer = reply(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        const length = Buffer.alloc(2);
        length.writeUInt16BE(answer.length);
        socket.write(Buffer.concat([length, answer]));
      }
    });
  });
  tcp.listen(udp.address().port, '127.0.0.1');
  await once(tcp, 'listening');
  return {
    port: (tcp.address() as AddressInfo).port,
    seen,
    async close() {
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { within } from './deadline.js';

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

/** One query sent with dns-packet over UDP or TCP (length-prefixed) to 127.0.0.1:`port`; resolves with the decoded answer. */
export async function askDns(port: number, transport: 'udp' | 'tcp', question: dnsPacket.Question): Promise<dnsPacket.Packet> {
  const query = dnsPacket.encode({ id: 4242, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [question] });
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    try {
      const reply = once(socket, 'message') as Promise<[Buffer]>;
      socket.send(query, port, '127.0.0.1');
      const [bytes] = await within(reply, `a UDP answer to ${question.name} ${question.type}`);
      return dnsPacket.decode(bytes);
    } finally {
      socket.close();
    }
  }
  const socket = connect(port, '127.0.0.1');
  try {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    // No half-close: a DNS server may answer after the client's FIN, and would then write after its end.
    socket.write(Buffer.concat([length, query]));
    const read = (async () => {
      let buffered = Buffer.alloc(0);
      for await (const chunk of socket) {
        buffered = Buffer.concat([buffered, chunk as Buffer]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0))
          return buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      }
      throw new Error(`the DNS server closed the TCP connection after ${buffered.length} bytes, before a whole answer`);
    })();
    return dnsPacket.decode(await within(read, `a TCP answer to ${question.name} ${question.type}`));
  } finally {
    socket.destroy();
  }
}

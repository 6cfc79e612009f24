// The DNS mode (`--mode dns@PORT`): a small resolver that points a phone, a container or a whole
// machine at the proxy by DNS alone. A and AAAA queries for names the proxy intercepts are
// answered with the transparent listener's address, and their HTTPS/SVCB queries with no records
// (NODATA); every other query is forwarded as it came to
// an upstream resolver and its answer returned byte for byte (TTLs, NXDOMAIN and all). The wire
// format is dns-packet's; this module only decides who answers.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect as tcpConnect, createServer, isIP, type AddressInfo, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';

/** Who answered one query, for logs and events. */
export interface DnsQueryRecord {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
  /** `proxy`: answered with our own address; `upstream`: forwarded; `failed`: SERVFAIL sent. */
  readonly answeredBy: 'proxy' | 'upstream' | 'failed';
  readonly client: { readonly address: string; readonly port: number };
  /** Why forwarding failed, when it did. */
  readonly error?: string;
}

/** What the DNS listener needs to know. */
export interface DnsServerOptions {
  readonly host: string;
  readonly port: number;
  /** True when `name` (lower case, no trailing dot) should reach the proxy. */
  readonly intercepts: (name: string) => boolean;
  /** Addresses answered for intercepted names; a family left out gets an empty (NODATA) answer. */
  readonly answer: { readonly ipv4: string | undefined; readonly ipv6: string | undefined };
  /** The resolver every other query goes to. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** How long to wait for the upstream resolver before answering SERVFAIL. */
  readonly timeoutMs: number;
  /** Called once per query; a throw is caught (user code must not stop the resolver). */
  readonly onQuery: (record: DnsQueryRecord) => void;
}

/** A running DNS listener (UDP and TCP on one port). */
export interface DnsServer {
  /** The bound address: `port` is the actual one when 0 was asked for. */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

// SVCB (64) and HTTPS (65) records (RFC 9460), which dns-packet names UNKNOWN_<type>. Their
// ipv4hint/ipv6hint would send a client around the transparent listener, and their ECH configs
// hide the SNI it routes by: for an intercepted name they are answered NODATA (no records, the
// question kept), never forwarded, so the client falls back to A/AAAA, which point at us.
const SERVICE_BINDING_TYPES: Readonly<Record<string, string>> = { UNKNOWN_64: 'SVCB', UNKNOWN_65: 'HTTPS' };

// Our own answers live briefly: a phone that leaves the proxy's network should not keep them long.
const ANSWER_TTL_S = 60;
// RFC 1035 §4.2.1: a UDP message is at most 512 bytes unless EDNS says more; upstream answers are
// forwarded as they are, so a truncated one keeps its TC bit and the client retries over TCP.
const MAX_TCP_MESSAGE = 65_535;

/** Starts the DNS listener on UDP and TCP, the same port for both; rejects naming the address if either cannot bind. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const udp = createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4' });
  const tcp = createServer((socket) => serveTcp(options, socket));
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  udp.on('message', (message, from) => {
    void answer(options, message, 'udp', from).then((reply) => {
      if (reply !== undefined) udp.send(reply, from.port, from.address);
    });
  });
  udp.on('error', () => {});
  try {
    udp.bind(options.port, options.host);
    await once(udp, 'listening');
    const port = udp.address().port;
    tcp.listen(port, options.host);
    await once(tcp, 'listening');
  } catch (error) {
    udp.close();
    tcp.close();
    throw new Error(`cannot listen for DNS on ${options.host}:${options.port}: ${(error as Error).message}`, { cause: error });
  }
  const port = (tcp.address() as AddressInfo).port;
  return {
    address: { host: options.host, port },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by its 2-byte length; a
// client may send several on one connection.
function serveTcp(options: DnsServerOptions, socket: Socket): void {
  socket.setTimeout(options.timeoutMs * 2, () => socket.destroy());
  socket.on('error', () => {});
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      void answer(options, message, 'tcp', { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }).then((reply) => {
        if (reply !== undefined && !socket.destroyed) socket.write(withLength(reply));
      });
    }
  });
}

// The reply to one query message, or undefined when the bytes are no DNS query worth answering.
async function answer(
  options: DnsServerOptions,
  message: Buffer,
  transport: 'udp' | 'tcp',
  from: Pick<RemoteInfo, 'address' | 'port'>,
): Promise<Buffer | undefined> {
  let query: dnsPacket.Packet;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return undefined;
  }
  if (query.type !== 'query') return undefined;
  const question = query.questions?.[0];
  const client = { address: from.address, port: from.port };
  const report = (record: Omit<DnsQueryRecord, 'transport' | 'client'>): void => {
    try {
      options.onQuery({ ...record, transport, client });
    } catch {
      // A listener's bug must not stop name resolution for every client.
    }
  };
  const name = question?.name.toLowerCase().replace(/\.$/, '') ?? '';
  const wireType: string = question?.type ?? '?';
  const type = SERVICE_BINDING_TYPES[wireType] ?? wireType;
  if (question !== undefined && (type === 'A' || type === 'AAAA' || type !== wireType) && options.intercepts(name)) {
    report({ name, type, answeredBy: 'proxy' });
    return ownAnswer(query, question, options.answer);
  }
  try {
    const reply = await (transport === 'udp' ? forwardUdp(options, message) : forwardTcp(options, message));
    report({ name, type, answeredBy: 'upstream' });
    return reply;
  } catch (error) {
    report({ name, type, answeredBy: 'failed', error: (error as Error).message });
    return dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2,
      questions: query.questions ?? [],
    });
  }
}

// An intercepted name's A/AAAA get our address; its HTTPS and SVCB queries an empty answer (NODATA).
function ownAnswer(query: dnsPacket.Packet, question: dnsPacket.Question, addresses: DnsServerOptions['answer']): Buffer {
  const data = question.type === 'A' ? addresses.ipv4 : question.type === 'AAAA' ? addresses.ipv6 : undefined;
  const answers: dnsPacket.Answer[] =
    data === undefined ? [] : [{ type: question.type as 'A' | 'AAAA', name: question.name, ttl: ANSWER_TTL_S, class: 'IN', data }];
  return dnsPacket.encode({
    id: query.id,
    type: 'response',
    // Authoritative for what it says, recursion available: stub resolvers accept it either way.
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [question],
    answers,
  });
}

// One UDP exchange with the upstream resolver on a socket of its own, so answers cannot be mixed
// up between clients that chose the same query id.
async function forwardUdp(options: DnsServerOptions, message: Buffer): Promise<Buffer> {
  const socket: UdpSocket = createSocket(isIP(options.upstream.host) === 6 ? 'udp6' : 'udp4');
  try {
    const reply = withDeadline(once(socket, 'message') as Promise<[Buffer]>, options, socket);
    socket.send(message, options.upstream.port, options.upstream.host);
    const [bytes] = await reply;
    return bytes;
  } finally {
    socket.close();
  }
}

async function forwardTcp(options: DnsServerOptions, message: Buffer): Promise<Buffer> {
  const socket = tcpConnect(options.upstream.port, options.upstream.host);
  try {
    const reply = withDeadline(readOneTcpMessage(socket), options, socket);
    socket.write(withLength(message));
    return await reply;
  } finally {
    socket.destroy();
  }
}

async function readOneTcpMessage(socket: Socket): Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  for await (const chunk of socket) {
    buffered = Buffer.concat([buffered, chunk as Buffer]);
    if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) return buffered.subarray(2, 2 + buffered.readUInt16BE(0));
    if (buffered.length > MAX_TCP_MESSAGE + 2) break;
  }
  throw new Error('the upstream resolver closed the connection without an answer');
}

function withDeadline<T>(
  promise: Promise<T>,
  options: DnsServerOptions,
  socket: { once(event: 'error', listener: (error: Error) => void): unknown },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `no answer from the upstream resolver ${options.upstream.host}:${options.upstream.port} within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function withLength(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

// SOCKS5 (RFC 1928) and its username/password method (RFC 1929): the wire format shared by the
// inbound server (socks5-server.ts) and the upstream client used by dial.ts.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HandshakeReader } from './handshake-reader.js';
import { ipAddressBytes } from './target.js';

/** The protocol version byte that opens every SOCKS5 message, and lets the listener tell SOCKS5 from HTTP. */
export const SOCKS_VERSION = 0x05;
/** Authentication methods (RFC 1928 §3). */
export const METHOD = { none: 0x00, password: 0x02, noneAcceptable: 0xff } as const;
/** Version of the username/password subnegotiation (RFC 1929 §2). */
export const PASSWORD_AUTH_VERSION = 0x01;
/** Commands (RFC 1928 §4); only CONNECT is served. */
export const COMMAND_CONNECT = 0x01;
/** Address types (RFC 1928 §5). */
export const ATYP = { ipv4: 0x01, domain: 0x03, ipv6: 0x04 } as const;
/** Reply codes (RFC 1928 §6). */
export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  refused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressNotSupported: 0x08,
} as const;

const REPLY_TEXT: Readonly<Record<number, string>> = {
  [REPLY.generalFailure]: 'general SOCKS server failure',
  [REPLY.notAllowed]: 'connection not allowed by ruleset',
  [REPLY.networkUnreachable]: 'network unreachable',
  [REPLY.hostUnreachable]: 'host unreachable',
  [REPLY.refused]: 'connection refused',
  [REPLY.ttlExpired]: 'TTL expired',
  [REPLY.commandNotSupported]: 'command not supported',
  [REPLY.addressNotSupported]: 'address type not supported',
};

/** The RFC 1928 wording of a reply code, for messages. */
export function replyText(code: number): string {
  return `${REPLY_TEXT[code] ?? 'unknown failure'} (reply ${code})`;
}

/** ATYP + DST.ADDR + DST.PORT for a host name or an IP literal. */
export function encodeAddress(host: string, port: number): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  const family = isIP(host);
  if (family !== 0) {
    return Buffer.concat([Buffer.of(family === 4 ? ATYP.ipv4 : ATYP.ipv6), ipAddressBytes(host), portBytes]);
  }
  const name = Buffer.from(host, 'ascii');
  return Buffer.concat([Buffer.of(ATYP.domain, name.length), name, portBytes]);
}

/** A reply carrying `code` and an all-zero IPv4 bound address (we have no meaningful one to report). */
export function encodeReply(code: number): Buffer {
  return Buffer.of(SOCKS_VERSION, code, 0x00, ATYP.ipv4, 0, 0, 0, 0, 0, 0);
}

/** Reads ATYP + address + port; resolves with the host (IPv6 without brackets) and port. */
export async function readAddress(reader: HandshakeReader): Promise<{ host: string; port: number; atyp: number }> {
  const [atyp = 0] = await reader.read(1);
  let host: string;
  if (atyp === ATYP.ipv4) {
    host = [...(await reader.read(4))].join('.');
  } else if (atyp === ATYP.ipv6) {
    const bytes = await reader.read(16);
    const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
    // The URL parser writes the canonical, compressed form (::1), as logs and policies expect.
    host = new URL(`http://[${groups}]/`).hostname.slice(1, -1);
  } else if (atyp === ATYP.domain) {
    const [length = 0] = await reader.read(1);
    host = (await reader.read(length)).toString('latin1');
  } else {
    return { host: '', port: 0, atyp };
  }
  return { host, port: (await reader.read(2)).readUInt16BE(0), atyp };
}

/** Why a SOCKS5 server would not open a tunnel; `reply` is set when it answered the CONNECT with a failure code. */
export class SocksClientError extends Error {
  readonly reply: number | undefined;

  constructor(message: string, reply?: number) {
    super(message);
    this.name = 'SocksClientError';
    this.reply = reply;
  }
}

/**
 * The client half: greets the SOCKS5 server on `socket`, authenticates with `credentials` when it
 * asks, and sends CONNECT host:port. Resolves once the server reports success.
 */
export async function socksConnect(
  socket: Duplex,
  reader: HandshakeReader,
  target: { host: string; port: number },
  credentials: { user: string; password: string } | undefined,
): Promise<void> {
  socket.write(credentials ? Buffer.of(SOCKS_VERSION, 2, METHOD.none, METHOD.password) : Buffer.of(SOCKS_VERSION, 1, METHOD.none));
  const [version, method] = await reader.read(2);
  if (version !== SOCKS_VERSION) throw new SocksClientError('it does not speak SOCKS5');
  if (method === METHOD.password && credentials) {
    const user = Buffer.from(credentials.user, 'utf8');
    const password = Buffer.from(credentials.password, 'utf8');
    if (user.length > 255 || password.length > 255) throw new SocksClientError('the username or password is longer than 255 bytes');
    socket.write(Buffer.concat([Buffer.of(PASSWORD_AUTH_VERSION, user.length), user, Buffer.of(password.length), password]));
    const [, status] = await reader.read(2);
    if (status !== 0) throw new SocksClientError('it rejected the username and password');
  } else if (method !== METHOD.none) {
    throw new SocksClientError(
      credentials
        ? 'it accepts none of our authentication methods'
        : 'it requires authentication: put user:password in the --upstream-proxy URL',
    );
  }
  socket.write(Buffer.concat([Buffer.of(SOCKS_VERSION, COMMAND_CONNECT, 0x00), encodeAddress(target.host, target.port)]));
  const [replyVersion, reply = REPLY.generalFailure] = await reader.read(3);
  if (replyVersion !== SOCKS_VERSION) throw new SocksClientError('it sent a malformed reply');
  if (reply !== REPLY.succeeded) throw new SocksClientError(replyText(reply), reply);
  // The bound address is of no use to us, but it must be consumed before the tunnel's bytes.
  await readAddress(reader);
}

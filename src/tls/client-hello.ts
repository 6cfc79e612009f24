// The server name a client asks for, read from its ClientHello before any TLS is set up, so the
// leaf for an IP-literal CONNECT can be chosen (and the origin's names sniffed) with the right SNI;
// the ALPN protocols it offers, which Node's TLS server does not tell (the flow's TLS facts); and
// whether it offers TLS 1.3, which tells a client from before SNI (intercept-tls.ts).
import type { Socket } from 'node:net';

// RFC 8446 §5.1: a record is at most 2^14 bytes of plaintext; allow the TLS 1.2 expansion too.
const MAX_RECORD = 5 + 16_384 + 2_048;
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const HOST_NAME = 0x00;
const ALPN_EXTENSION = 0x0010;
const SUPPORTED_VERSIONS_EXTENSION = 0x002b;
const TLS_1_3 = 0x0304;

/** What a client's ClientHello asks for, read before TLS is set up. */
export interface ClientHello {
  /** The SNI host name; '' when the hello has none. */
  readonly servername: string;
  /** The ALPN protocols offered, in the client's order; empty when it offers none. */
  readonly alpn: readonly string[];
  /** True when it offers TLS 1.3 (RFC 8446 §4.2.1 supported_versions). */
  readonly tls13: boolean;
}

/**
 * The ClientHello at the start of `bytes`: its SNI and ALPN offer, 'incomplete' when more bytes
 * are needed, or undefined when it cannot be read (not a ClientHello, or one spread over several
 * records).
 */
export function parseClientHello(bytes: Buffer): ClientHello | 'incomplete' | undefined {
  if (bytes.length < 5) return 'incomplete';
  if (bytes[0] !== HANDSHAKE) return undefined;
  const recordEnd = 5 + bytes.readUInt16BE(3);
  if (bytes.length < recordEnd) return recordEnd > MAX_RECORD ? undefined : 'incomplete';
  const record = bytes.subarray(5, recordEnd);
  if (record[0] !== CLIENT_HELLO || record.length < 4) return undefined;
  const helloEnd = 4 + record.readUIntBE(1, 3);
  if (helloEnd > record.length) return undefined;
  try {
    return helloExtensions(record.subarray(4, helloEnd));
  } catch {
    // A truncated field makes a read run past the end: not a ClientHello we can read.
    return undefined;
  }
}

/** Walks ClientHello fields (RFC 8446 §4.1.2) to the server_name (RFC 6066 §3), ALPN (RFC 7301 §3.1) and supported_versions extensions. */
function helloExtensions(hello: Buffer): ClientHello {
  let at = 2 + 32; // legacy_version, random
  at += 1 + readLength(hello, at, 1); // legacy_session_id
  at += 2 + readLength(hello, at, 2); // cipher_suites
  at += 1 + readLength(hello, at, 1); // legacy_compression_methods
  let servername = '';
  let alpn: string[] = [];
  let tls13 = false;
  if (at === hello.length) return { servername, alpn, tls13 };
  const extensionsEnd = at + 2 + readLength(hello, at, 2);
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    at += 4;
    if (type === SERVER_NAME_EXTENSION) servername = hostName(hello, at, at + length);
    else if (type === ALPN_EXTENSION) alpn = protocolNames(hello, at, at + length);
    else if (type === SUPPORTED_VERSIONS_EXTENSION) tls13 = offersVersion(hello, at, at + length, TLS_1_3);
    at += length;
  }
  return { servername, alpn, tls13 };
}

/** The first host_name entry of a server_name extension's list; '' when it has none. */
function hostName(hello: Buffer, from: number, to: number): string {
  let entry = from + 2;
  while (entry + 3 <= to) {
    const nameLength = hello.readUInt16BE(entry + 1);
    if (hello[entry] === HOST_NAME) return hello.toString('latin1', entry + 3, entry + 3 + nameLength);
    entry += 3 + nameLength;
  }
  return '';
}

/** The protocol names of an ALPN extension's list; what a malformed list holds before it goes wrong (its SNI still counts). */
function protocolNames(hello: Buffer, from: number, to: number): string[] {
  const names: string[] = [];
  if (from + 2 > to) return names;
  const end = Math.min(to, from + 2 + hello.readUInt16BE(from));
  let entry = from + 2;
  while (entry < end) {
    const nameLength = hello[entry] ?? 0;
    if (nameLength === 0 || entry + 1 + nameLength > end) break;
    names.push(hello.toString('latin1', entry + 1, entry + 1 + nameLength));
    entry += 1 + nameLength;
  }
  return names;
}

/** True when a supported_versions list (a length byte, then two bytes per version) holds `version`. */
function offersVersion(hello: Buffer, from: number, to: number, version: number): boolean {
  const end = Math.min(to, from + 1 + (hello[from] ?? 0));
  for (let entry = from + 1; entry + 2 <= end; entry += 2) {
    if (hello.readUInt16BE(entry) === version) return true;
  }
  return false;
}

function readLength(buffer: Buffer, at: number, bytes: 1 | 2): number {
  if (at + bytes > buffer.length) throw new RangeError('truncated');
  return bytes === 1 ? (buffer[at] ?? 0) : buffer.readUInt16BE(at);
}

/**
 * Reads the client's ClientHello without consuming it: the bytes are unshifted back and the
 * socket is left paused for the TLS layer. Resolves with what it asks for, or undefined when it
 * cannot be read. `seen`: the socket's first bytes, already read and handed back by the caller
 * (connect.ts); when they hold the whole ClientHello, as they usually do, the socket is not read
 * a second time.
 */
export function peekClientHello(socket: Socket, seen?: Buffer): Promise<ClientHello | undefined> {
  const known = seen === undefined ? 'incomplete' : parseClientHello(seen);
  if (known !== 'incomplete') return Promise.resolve(known);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const finish = (result: ClientHello | undefined): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      socket.pause();
      if (chunks.length > 0) socket.unshift(Buffer.concat(chunks));
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const result = parseClientHello(Buffer.concat(chunks));
      if (result !== 'incomplete') finish(result);
    };
    const onClose = (): void => finish(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
    // Half-open sockets: a client that ends its side mid-ClientHello sends nothing more.
    socket.once('end', onClose);
    socket.resume();
  });
}

// What each origin connection is, gathered once per connection where it is made: when its dial
// started and ended (dial.ts), when its TLS handshake ended and what it negotiated, the origin's
// certificate included (origin-handshake.ts). Every request that goes on the connection claims it
// (h1-origin.ts, h1-undici.ts, h2-origin.ts, websocket.ts): the first one is its `new` request, the
// others are told it was `reused`. Kept in WeakMaps, so nothing outlives its socket.
import type { Socket } from 'node:net';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';
import type { OriginConnectionFacts } from '../flow/flow.js';
import type { OriginCertificateFacts, OriginTlsFacts } from '../flow/tls-facts.js';

interface ConnectionRecord {
  readonly connectStart?: number | undefined;
  readonly connectEnd?: number | undefined;
  readonly tlsStart?: number | undefined;
  readonly tlsEnd?: number | undefined;
  readonly tls?: OriginTlsFacts | undefined;
  claimed: boolean;
  /** The origin's address, read at the first claim (an HTTP/2 session's socket is a Proxy, slow to read). */
  peer?: { readonly address: string; readonly port: number };
}

/** Epoch ms when each dialled socket's dial started and ended. */
const dials = new WeakMap<object, { readonly start: number; readonly end: number }>();
/** Each connection's record, by its socket (and by the HTTP/2 session on it). */
const records = new WeakMap<object, ConnectionRecord>();

/** Notes that `socket` was dialled from `start` (epoch ms) until now. */
export function noteDial(socket: Socket, start: number): void {
  dials.set(socket, { start, end: Date.now() });
}

/**
 * Notes that `socket`'s handshake, started at `tlsStart` (epoch ms), ended now, over `raw` (whose
 * dial times it takes), having sent `sni` ('' for none): its TLS facts and certificate are read
 * here, once for the connection.
 */
export function noteSecured(socket: TLSSocket, raw: object, sni: string, tlsStart: number): void {
  const dial = dials.get(raw);
  records.set(socket, {
    connectStart: dial?.start,
    connectEnd: dial?.end,
    tlsStart,
    tlsEnd: Date.now(),
    tls: originTlsFacts(socket, sni),
    claimed: false,
  });
}

/** Makes `alias` (the HTTP/2 session on `socket`) stand for the connection of `socket`. */
export function linkConnection(alias: object, socket: Socket): void {
  records.set(alias, recordOf(socket));
}

/**
 * The facts of the connection `key` (a socket, or an HTTP/2 session linked to one) for a request
 * about to go on it, `peer` being the socket to read the address from: the first claim of a
 * connection gets its dial and handshake times, every later one is `reused`. A socket opened
 * elsewhere (the certificate sniffer's) is read now, without times.
 */
export function claimConnection(key: Socket | object, peer: Socket, fallbackPort: number): OriginConnectionFacts {
  const record = records.get(key) ?? recordOf(peer);
  if (!records.has(key)) records.set(key, record);
  const reused = record.claimed;
  record.claimed = true;
  record.peer ??= { address: peer.remoteAddress ?? '', port: peer.remotePort ?? fallbackPort };
  const facts: Mutable<OriginConnectionFacts> = { address: record.peer.address, port: record.peer.port, reused, tls: record.tls };
  if (!reused) {
    facts.connectStart = record.connectStart;
    facts.connectEnd = record.connectEnd;
    facts.tlsStart = record.tlsStart;
    facts.tlsEnd = record.tlsEnd;
  }
  return facts;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The record of `socket`, made now from what is known of it when it has none. */
function recordOf(socket: Socket): ConnectionRecord {
  let record = records.get(socket);
  if (record === undefined) {
    const dial = dials.get(socket);
    const tls = socket instanceof TLSSocket && socket.encrypted ? originTlsFacts(socket, servernameOf(socket)) : undefined;
    record = { connectStart: dial?.start, connectEnd: dial?.end, tls, claimed: false };
    records.set(socket, record);
  }
  return record;
}

function servernameOf(socket: TLSSocket): string {
  const name = (socket as TLSSocket & { servername?: unknown }).servername;
  return typeof name === 'string' ? name : '';
}

/** What `socket`'s handshake negotiated, and the certificate the origin presented. */
function originTlsFacts(socket: TLSSocket, sni: string): OriginTlsFacts {
  // A socket destroyed meanwhile has no cipher left to tell (Node returns undefined then).
  const cipher = socket.getCipher() as ReturnType<TLSSocket['getCipher']> | undefined;
  return {
    sni,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined,
    version: socket.getProtocol() ?? '',
    cipher: cipher?.standardName ?? cipher?.name ?? '',
    resumed: socket.isSessionReused(),
    certificate: certificateFacts(socket.getPeerCertificate(true) as DetailedPeerCertificate | null),
  };
}

/** The leaf's names, issuer, validity and fingerprints; undefined when the origin presented none. */
function certificateFacts(leaf: DetailedPeerCertificate | null): OriginCertificateFacts | undefined {
  // An empty object when the origin sent none; null once the socket is gone.
  if (leaf?.raw === undefined) return undefined;
  const chainSha256: string[] = [];
  const seen = new Set<object>();
  // A self-signed root is its own issuer: the walk stops at the first certificate seen twice.
  for (let at: DetailedPeerCertificate | undefined = leaf; at?.raw !== undefined && !seen.has(at); at = at.issuerCertificate) {
    seen.add(at);
    chainSha256.push(at.fingerprint256);
  }
  return {
    subject: shortName(leaf.subject),
    sans: subjectAltNames(leaf.subjectaltname),
    issuer: shortName(leaf.issuer),
    validFrom: isoDate(leaf.valid_from),
    validTo: isoDate(leaf.valid_to),
    sha256: leaf.fingerprint256,
    chainSha256,
  };
}

/** A distinguished name as one short string: its CN, else its O, else every part. */
function shortName(name: Readonly<Record<string, string | string[] | undefined>> | undefined): string {
  if (name === undefined) return '';
  const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);
  return (
    first(name.CN) ??
    first(name.O) ??
    Object.entries(name)
      .map(([key, value]) => `${key}=${[value].flat().join('+')}`)
      .join(', ')
  );
}

/** `DNS:a.test, IP Address:127.0.0.1` → `['a.test', '127.0.0.1']`. */
function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(/, (?=[A-Za-z ]+:)/).map((entry) => entry.slice(entry.indexOf(':') + 1));
}

/** OpenSSL's `Jan  1 00:00:00 2030 GMT` as ISO 8601 (the text as it is when it does not parse). */
function isoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

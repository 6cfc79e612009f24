// Upstream certificate sniffing, as mitmproxy does: for a CONNECT to an IP literal whose client
// sends no SNI and may still check a name (one it was configured with, before SNI existed), which
// we cannot know from the CONNECT line. We connect to the origin, read the subjectAltNames of its
// certificate, and copy them into our leaf. Clients that check only their SNI or the IP do without
// (intercept-tls.ts). Names are only copied from certificates that verify (unless --insecure), so a leaf never
// vouches for a name no trusted CA vouched for at that address. The connection is then handed to
// the upstream pool for the request that follows, when it passes the same identity check that
// request's own connection would (else it is closed, and the request connects and verifies anew):
// a new IP host costs one origin handshake, not two.
import { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { TLS_BUFFERING } from '../net/buffers.js';
import type { OriginContexts } from '../origin/presented-certs.js';
import type { Dialer } from '../origin/dial.js';
import { noteSecured } from '../origin/origin-connection.js';
import { formatAuthority, normalizeHost, type Target } from '../net/target.js';
import type { OriginTarget } from '../origin/origin-target.js';

/** Reads the names an origin's certificate carries. */
export interface CertSniffer {
  /**
   * The DNS names and IPs in the certificate `target` presents to a client sending no SNI; [] when
   * it cannot be had. `connected` may hand over a TCP connection to `target` already dialled (the
   * CONNECT's), taken only when the names must be sniffed; else a connection is dialled.
   */
  namesFor(target: Target, connected?: () => Socket | undefined): Promise<string[]>;
}

// Kept short: the client's handshake waits for this, and a leaf without the extra names still
// works for clients that check the IP.
const SNIFF_TIMEOUT_MS = 5_000;
// Enough for real certificates (CDN certificates carry dozens of names), bounded for hostile ones.
const MAX_NAMES = 100;
const CACHE = { max: 512, ttl: 10 * 60 * 1000 };

/** What the sniffer needs: how to reach and verify origins, and whom to hand a usable connection. */
export interface SnifferOptions {
  readonly dialer: Dialer;
  readonly contexts: OriginContexts;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  /** Takes a connection that passed the identity check for `origin` (the upstream pool). */
  readonly handOver: (origin: OriginTarget, socket: TLSSocket) => void;
  /** The proxy's close: abandons the dials under way. */
  readonly closing: AbortSignal;
}

/** Creates a sniffer that dials through `dialer` and verifies with the origin contexts, caching per origin. */
export function createCertSniffer(options: SnifferOptions): CertSniffer {
  const cache = new LRUCache<string, Promise<string[]>>(CACHE);
  const timeoutMs = Math.min(options.timeoutMs, SNIFF_TIMEOUT_MS);
  return {
    namesFor(target, connected) {
      const key = formatAuthority(target);
      let names = cache.get(key);
      if (names === undefined) {
        names = sniff(options, target, timeoutMs, connected?.()).catch(() => []);
        // A failure is retried on the next connection rather than remembered.
        void names.then((found) => found.length === 0 && cache.delete(key));
        cache.set(key, names);
      }
      return names;
    },
  };
}

async function sniff(options: SnifferOptions, target: Target, timeoutMs: number, connected: Socket | undefined): Promise<string[]> {
  const socket = connected ?? (await options.dialer.dial(target, { timeoutMs, signal: options.closing }));
  const tlsStart = Date.now();
  return new Promise<string[]>((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      servername: '',
      secureContext: options.contexts(target.host),
      rejectUnauthorized: !options.insecure,
      // Only the chain is checked here: which names the certificate covers is what we are asking.
      checkServerIdentity: () => undefined,
      // What the upstream pool offers, so the connection can serve the request that follows.
      ALPNProtocols: ['h2', 'http/1.1'],
      ...TLS_BUFFERING,
    });
    const timer = setTimeout(() => tls.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    tls.on('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = tls.getPeerCertificate();
      const names = peer.raw === undefined ? [] : subjectAltNames(new X509Certificate(peer.raw));
      // The request's connection (no SNI either) is checked against the IP.
      if (options.insecure || checkServerIdentity(target.host, peer) === undefined) {
        tls.removeAllListeners('error');
        // It carries the first request: its dial, handshake and certificate are that flow's.
        noteSecured(tls, socket, '', tlsStart);
        options.handOver({ ...target, secure: true, servername: '' }, tls);
      } else {
        tls.destroy();
        socket.destroy();
      }
      resolve(names);
    });
  });
}

/** The DNS names (`*.` wildcards kept) and IP addresses of a certificate's subjectAltName, validated like hosts. */
export function subjectAltNames(cert: X509Certificate): string[] {
  const names = new Set<string>();
  // Node writes entries as `DNS:a, IP Address:1.2.3.4`, JSON-quoting any that hold a comma or
  // quote; those are not host names, and fail validation below.
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    const dns = /^DNS:(.+)$/.exec(entry)?.[1];
    const ip = /^IP Address:(.+)$/.exec(entry)?.[1];
    const name = dns !== undefined ? validName(dns) : ip !== undefined ? validIp(ip) : undefined;
    if (name !== undefined) names.add(name);
    if (names.size >= MAX_NAMES) break;
  }
  return [...names];
}

function validName(name: string): string | undefined {
  try {
    return name.startsWith('*.') ? `*.${normalizeHost(name.slice(2))}` : normalizeHost(name);
  } catch {
    return undefined;
  }
}

function validIp(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return ip;
  // Node prints IPv6 SANs uncompressed (0:0:0:0:0:0:0:1); the URL parser gives the canonical form.
  return family === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : undefined;
}

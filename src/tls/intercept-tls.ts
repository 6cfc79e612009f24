// TLS session #1 of an intercepted tunnel: choose the leaf, terminate the client's TLS, hand the
// decrypted stream to the HTTP server, and notice clients that refuse our certificate.
import { isIP, type Socket } from 'node:net';
import { isAbsolute, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CA_CERT_FILE, type CertificateAuthority } from '../ca/authority.js';
import type { CertCache } from '../ca/cert-cache.js';
import type { FlowClient } from '../flow/flow.js';
import { peekClientHello, type ClientHello } from './client-hello.js';
import { terminateClientTls } from './client-tls.js';
import { describeHandshakeFailure, handshakeRejection } from './pinned-clients.js';
import type { TlsRuntime } from './tls-runtime.js';
import type { Target } from '../net/target.js';
import { originTarget } from '../origin/origin-target.js';

// A client that completes the handshake and hangs up this soon without a single byte of request
// has checked our certificate after the handshake and refused it (certificate pinning); an idle
// pre-connection is closed much later than this, if at all.
const QUIET_CLOSE_WINDOW_MS = 3_000;

/**
 * Terminates the client's TLS inside an intercepted tunnel and serves the requests that follow.
 * `first`: the client's first bytes, read and handed back by connect.ts (usually the whole
 * ClientHello). `origin`: the TCP connection to the origin the CONNECT was answered after, which
 * carries TLS session #2 while the client's handshake runs.
 */
export function interceptTls(rt: TlsRuntime, raw: Socket, target: Target, client: FlowClient, first: Buffer, origin?: Socket): void {
  // Set once our certificate is ready to go out: a client that gives up before that, while a slow
  // origin is sniffed, is impatient, not refusing our certificate.
  let offered = false;
  let gone = false;
  const leave = (): void => {
    gone = true;
  };
  raw.once('end', leave);
  raw.once('close', leave);
  // A host name's origin connection starts TLS at once. An IP literal's waits for the ClientHello:
  // it carries TLS #2 under the client's SNI, unless the origin's names must be sniffed for the
  // leaf first (then the sniffer, which must connect anyway, takes it).
  let spare = origin;
  const takeSpare = (): Socket | undefined => {
    const taken = spare;
    spare = undefined;
    return taken;
  };
  // Read as it arrives, for the ALPN protocols the client offers (and an IP literal's SNI).
  const hello = peekClientHello(raw, first);
  if (isIP(target.host) === 0) prepareOrigin(rt, target, '', takeSpare());
  else {
    void hello.then((offered) => {
      if (leafNeedsNoSniff(offered)) prepareOrigin(rt, target, offered.servername, takeSpare());
    });
  }
  certSource(rt, hello, target, takeSpare, () => {
    offered = !gone;
  })
    .then((certs) => terminateClientTls(raw, target.host, certs, hello))
    .then(
      ({ tlsSocket, servername, facts }) => {
        const unused = takeSpare();
        if (unused) rt.exchangeDeps.upstream.prepare(originTarget(target, true, servername), unused);
        raw.setTimeout(0);
        rt.track(tlsSocket);
        const secureAt = performance.now();
        tlsSocket.once('close', () => {
          if (tlsSocket.bytesRead === 0 && performance.now() - secureAt < QUIET_CLOSE_WINDOW_MS) {
            learn(rt, target, client, 'closed the connection right after the handshake without sending a request');
          }
        });
        rt.serveHttp(tlsSocket, { target, secure: true, servername, client, tls: facts });
      },
      (error: unknown) => {
        raw.destroy();
        takeSpare()?.destroy();
        const message = describeHandshakeFailure(error, caFileShown(rt.ca));
        rt.emit('client-issue', { host: target.host, client, code: 'client_tls', message });
        const rejection = handshakeRejection(error);
        // An alert is an answer to our certificate; a hang-up only counts once the certificate was on its way.
        const hangUp = rejection !== undefined && /^(closed|reset)/.test(rejection);
        if (rejection !== undefined && (offered || !hangUp)) learn(rt, target, client, rejection);
      },
    );
}

/**
 * Runs TLS session #2 over the origin connection the CONNECT was answered after, while the
 * client's handshake runs (mitmproxy's "eager" strategy), so the first request of a new host
 * waits for one handshake instead of two in a row. connect.ts dials it only when it may: not for
 * the proxy's own names, nor while onRequest hooks run (they may answer, block or re-target the
 * request, and a blocked host must not be contacted at all).
 */
function prepareOrigin(rt: TlsRuntime, target: Target, sni: string, origin: Socket | undefined): void {
  if (origin) rt.exchangeDeps.upstream.prepare(originTarget(target, true, sni), origin);
}

/**
 * True when the client of an IP-literal CONNECT checks only what a leaf can carry without asking
 * the origin: the SNI name it sent, or, sending none, the IP itself. Every client tried (curl,
 * Python, Node, Java, Chromium; docs/performance.md) sends no SNI to an IP (RFC 6066 §3 forbids
 * IP literals there) and checks the IP SAN. A client that checks a name it never sent predates
 * SNI, so it offers TLS 1.2 at most: every TLS 1.3 implementation must support SNI (RFC 8446
 * §9.2). (Java with SNI turned off but TLS 1.3 on also checks a name it never sent; through a
 * proxy it names the host in its CONNECT, which needs no sniff.)
 */
function leafNeedsNoSniff(hello: ClientHello | undefined): hello is ClientHello {
  return hello !== undefined && (hello.servername !== '' || hello.tls13);
}

/** Remembers that this client refused our certificate for `target` (with --auto-passthrough), and says so once. */
function learn(rt: TlsRuntime, target: Target, client: FlowClient, reason: string): void {
  const until = rt.pinned?.remember(client.address, target, reason);
  if (until === undefined) return;
  rt.emit('auto-passthrough', { host: target.host, port: target.port, client, reason, until });
}

/**
 * Where the leaf comes from. For a host name: the shared cache, by SNI. For an IP literal: the SNI
 * name (if any) and the IP, at once when that is all the client checks (leafNeedsNoSniff);
 * otherwise the names of the origin's own certificate join the IP, the client's handshake waiting
 * for them (cert-sniff.ts).
 */
async function certSource(
  rt: TlsRuntime,
  hello: Promise<ClientHello | undefined>,
  target: Target,
  takeSpare: () => Socket | undefined,
  ready: () => void,
): Promise<CertCache> {
  const offer = (context: Promise<Awaited<ReturnType<CertCache['get']>>>): typeof context =>
    context.then((value) => {
      ready();
      return value;
    });
  if (isIP(target.host) === 0) {
    return { get: (name) => offer(rt.certs.get(name)), size: rt.certs.size };
  }
  const offered = await hello;
  // A named leaf carries the IP too, and serves as the fallback context: one mint, not two.
  const leafFor = (name: string): ReturnType<CertCache['get']> =>
    name === target.host ? rt.certs.get(target.host) : rt.certs.get(name, [target.host]);
  if (leafNeedsNoSniff(offered)) {
    return { get: () => offer(leafFor(offered.servername || target.host)), size: rt.certs.size };
  }
  return {
    // Only the fallback (no SNI) needs the origin's names; a name the hello hid from us is the
    // SNI callback's, and goes into the leaf as it is.
    get: async (name) => {
      if (name !== target.host) return offer(leafFor(name));
      const names = await rt.sniffer.namesFor(target, takeSpare);
      return offer(
        rt.certs.get(
          target.host,
          names.filter((extraName) => extraName !== target.host),
        ),
      );
    },
    size: rt.certs.size,
  };
}

/** The CA certificate's path as a user would type it (relative inside the working directory), for messages. */
export function caFileShown(ca: CertificateAuthority): string {
  const path = join(ca.dir, CA_CERT_FILE);
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

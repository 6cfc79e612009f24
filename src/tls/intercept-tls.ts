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
 * `origin`: the TCP connection to the origin the CONNECT was answered after (connect.ts), which
 * carries TLS session #2 while the client's handshake runs.
 */
export function interceptTls(rt: TlsRuntime, raw: Socket, target: Target, client: FlowClient, origin?: Socket): void {
  // Set once our certificate is ready to go out: a client that gives up before that, while a slow
  // origin is sniffed, is impatient, not refusing our certificate.
  let offered = false;
  let gone = false;
  const leave = (): void => {
    gone = true;
  };
  raw.once('end', leave);
  raw.once('close', leave);
  // A host name's origin connection starts TLS at once; an IP literal's is first offered to the
  // certificate sniffer, which must connect anyway, and otherwise serves once the SNI is known.
  let spare = origin;
  const takeSpare = (): Socket | undefined => {
    const taken = spare;
    spare = undefined;
    return taken;
  };
  if (isIP(target.host) === 0) prepareOrigin(rt, target, takeSpare());
  // Read as it arrives, for the ALPN protocols the client offers (and an IP literal's SNI).
  const hello = peekClientHello(raw);
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
function prepareOrigin(rt: TlsRuntime, target: Target, origin: Socket | undefined): void {
  if (origin) rt.exchangeDeps.upstream.prepare(originTarget(target, true), origin);
}

/** Remembers that this client refused our certificate for `target` (with --auto-passthrough), and says so once. */
function learn(rt: TlsRuntime, target: Target, client: FlowClient, reason: string): void {
  const until = rt.pinned?.remember(client.address, target, reason);
  if (until === undefined) return;
  rt.emit('auto-passthrough', { host: target.host, port: target.port, client, reason, until });
}

/**
 * Where the leaf comes from. For a host name: the shared cache, by SNI. For an IP literal, whose
 * client may check a name we cannot see in the CONNECT line: the names of the origin's own
 * certificate (sniffed with the client's SNI) join the leaf, next to the SNI name and the IP.
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
  const sni = (await hello)?.servername;
  const namesFor = (name: string): Promise<string[]> => rt.sniffer.namesFor(target, name === target.host ? '' : name, takeSpare);
  return {
    // The fallback context (asked for by target.host) only serves clients that send no SNI; with
    // an SNI the callback asks again by name, so the fallback needs no sniffing of its own.
    get: async (name) => {
      if (name === target.host && sni) return rt.certs.get(name);
      const extra = await namesFor(name);
      return offer(
        rt.certs.get(
          name,
          [...extra, target.host].filter((extraName) => extraName !== name),
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

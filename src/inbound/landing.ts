// The proxy's own small web site: a page with the root CA to download and install steps, served
// for a plain GET to the proxy's address (someone typing it into a browser) and for mitm.it, a
// name that only means something through the proxy. mitm.it is always answered here, never
// forwarded: the real host of that name is not ours.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeCa, exportCa, type CertificateAuthority } from '../ca/authority.js';
import type { FlowClient } from '../flow/flow.js';
import type { InboundRequest, OutboundResponse } from '../exchange/client-message.js';
import { landingHtml } from './landing-page.js';
import type { ProxyRuntime } from './runtime.js';

interface Download {
  readonly format: 'pem' | 'der' | 'p12';
  readonly contentType: string;
  readonly fileName: string;
}

// Media types and extensions that OS and browser importers recognise (Android and Windows go by
// `.cer` for DER; iOS offers to install a profile for application/x-x509-ca-cert or PEM).
const DOWNLOADS: Readonly<Record<string, Download>> = {
  '/cert/pem': { format: 'pem', contentType: 'application/x-pem-file', fileName: 'mitm-ca.pem' },
  '/cert/der': { format: 'der', contentType: 'application/x-x509-ca-cert', fileName: 'mitm-ca.cer' },
  '/cert/p12': { format: 'p12', contentType: 'application/x-pkcs12', fileName: 'mitm-ca.p12' },
};

/** What was sent, for the flow record. */
export interface LandingAnswer {
  readonly status: number;
  readonly contentType: string;
  /** Body bytes written (0 for HEAD). */
  readonly bytes: number;
}

/** The path of a request target without its query: `/cert/pem?x` → `/cert/pem`. */
function pathOf(requestTarget: string): string {
  return requestTarget.split(/[?#]/, 1)[0] ?? '';
}

/** True for a GET or HEAD of one of the landing paths (`/`, `/cert/pem`, `/cert/der`, `/cert/p12`). */
export function isLandingRequest(method: string | undefined, requestTarget: string): boolean {
  const path = pathOf(requestTarget);
  return (method === 'GET' || method === 'HEAD') && (path === '/' || Object.hasOwn(DOWNLOADS, path));
}

/** `http://ADDR:PORT` of the proxy as this client reached it (right even when listening on 0.0.0.0). */
export function proxyUrlOf(socket: Socket): string {
  const address = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return `http://${address.includes(':') ? `[${address}]` : address}:${socket.localPort ?? 0}`;
}

/**
 * Answers one request for the landing site: the page, a certificate download, 404 for another
 * path or 405 for another method. `path` is the origin-form target (the request line's path for
 * relative requests, the URL's path for mitm.it).
 */
export function serveLanding(
  req: InboundRequest,
  res: OutboundResponse,
  ca: CertificateAuthority,
  proxyUrl: string,
  path: string,
): LandingAnswer {
  // A body (say, a POST to mitm.it) is never read; draining it keeps the connection usable.
  req.resume();
  const method = req.method ?? 'GET';
  const route = pathOf(path);
  if (method !== 'GET' && method !== 'HEAD') {
    return send(req, res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD are served here\n', { allow: 'GET, HEAD' });
  }
  const download = DOWNLOADS[route];
  if (download !== undefined) {
    return send(req, res, 200, download.contentType, exportCa(ca, download.format), {
      'content-disposition': `attachment; filename="${download.fileName}"`,
    });
  }
  if (route !== '/') {
    return send(req, res, 404, 'text/plain; charset=utf-8', 'not found: this proxy serves /, /cert/pem, /cert/der and /cert/p12\n');
  }
  const { subject, notAfter, sha256 } = describeCa(ca);
  const html = landingHtml({ fingerprint: sha256, subject, notAfter, proxyUrl });
  return send(req, res, 200, 'text/html; charset=utf-8', html, {
    // No scripts, no outside resources: the page needs only its inline style.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
}

/** A request the handler routed to the landing site. */
export interface LandingExchange {
  readonly id: number;
  readonly client: FlowClient;
  /** `performance.now()` when the request head arrived. */
  readonly startedAt: number;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** The URL the flow record shows; by default the proxy's own address plus `path`. */
  readonly url?: string;
}

/** Serves the landing site for a request the handler routed here, and emits its flow record like every other exchange. */
export function answerLanding(rt: ProxyRuntime, req: InboundRequest, res: OutboundResponse, exchange: LandingExchange): void {
  const proxyUrl = proxyUrlOf(req.socket);
  const answer = serveLanding(req, res, rt.ca, proxyUrl, exchange.path);
  rt.emit('flow', {
    id: exchange.id,
    method: req.method ?? 'GET',
    url: exchange.url ?? `${proxyUrl}${exchange.path}`,
    status: answer.status,
    contentType: answer.contentType,
    responseBytes: answer.bytes,
    durationMs: performance.now() - exchange.startedAt,
    mode: exchange.client.mode ?? 'regular',
    error: undefined,
    client: exchange.client,
  });
}

function send(
  req: InboundRequest,
  res: OutboundResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
): LandingAnswer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': bytes.length,
    // The page embeds this proxy's address and the certificate may be replaced: never cache either.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  // Node leaves the body out of a HEAD response by itself; the length above still tells its size.
  res.end(bytes);
  return { status, contentType, bytes: req.method === 'HEAD' ? 0 : bytes.length };
}

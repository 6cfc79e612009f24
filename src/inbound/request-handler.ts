import { performance } from 'node:perf_hooks';
import { isMitmError, MitmError } from '../errors.js';
import type { FlowClient } from '../flow/flow.js';
import { connectionOf, isH2Request, type InboundRequest, type OutboundResponse } from '../exchange/client-message.js';
import { carriesVia } from '../exchange/via.js';
import { proxyAuthRequired } from './connect.js';
import { respondWithError } from '../exchange/error-response.js';
import type { FlowRecord } from '../events.js';
import { runExchange, type Exchange } from '../exchange/exchange.js';
import { answerLanding, isLandingRequest } from './landing.js';
import type { ProxyRuntime, TunnelSession } from './runtime.js';
import { formatAuthority, LANDING_HOST, parseAuthority } from '../net/target.js';
import { originTarget, type OriginTarget } from '../origin/origin-target.js';

// absolute-form request target (RFC 9112 §3.2.2): scheme, authority, then path and query kept raw.
const ABSOLUTE_FORM = /^(https?):\/\/([^/?#]*)([^#]*)/i;

/** Where a request goes, before it gets an id: shared by plain requests and WebSocket upgrades. */
export type Resolved = Omit<Exchange, 'id' | 'client' | 'clientTls' | 'connectionId' | 'startedAt'>;

/**
 * Returns the handler for every HTTP request the proxy parses: absolute-URI requests sent to the
 * proxy port, and origin-form requests read from inside intercepted CONNECT tunnels, HTTP/1.x
 * or HTTP/2 streams alike.
 */
export function createRequestHandler(rt: ProxyRuntime): (req: InboundRequest, res: OutboundResponse) => void {
  const handle = (
    req: InboundRequest,
    res: OutboundResponse,
    session: TunnelSession | undefined,
    client: FlowClient,
    startedAt: number,
  ): void => {
    const id = rt.nextId();
    let resolved: Resolved;
    try {
      resolved = resolveRequest(rt, req, session);
    } catch (error) {
      // A browser pointed at the proxy's own address gets the CA download page, not a 400.
      if (!session && isLandingRequest(req.method, req.url ?? '')) {
        answerLanding(rt, req, res, { id, client, startedAt, path: req.url ?? '/' });
        return;
      }
      refuse(rt, req, res, { id, client, startedAt }, isMitmError(error) ? error : new MitmError('bad_request', String(error)));
      return;
    }
    // mitm.it (plain or through CONNECT) is answered here and never forwarded: see landing.ts.
    if (resolved.origin.host === LANDING_HOST) {
      answerLanding(rt, req, res, { id, client, startedAt, path: resolved.path, url: resolved.url });
      return;
    }
    const connectionId = rt.connectionId(connectionOf(req));
    void runExchange(rt.exchangeDeps, { ...resolved, id, client, clientTls: session?.tls, connectionId, startedAt }, req, res);
  };
  return (req, res) => {
    const startedAt = performance.now();
    const session = rt.sessions.get(connectionOf(req));
    const client = session?.client ?? { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    // Requests inside a tunnel were authorised with their CONNECT; the CA page on the proxy's own
    // address (relative URLs) forwards nothing, so it needs no credentials either.
    if (!rt.auth || session || isLandingRequest(req.method, req.url ?? '')) {
      handle(req, res, session, client, startedAt);
      return;
    }
    rt.auth.checkHeader(req.headers['proxy-authorization']).then(
      (user) => {
        if (user !== undefined) handle(req, res, session, { ...client, user }, startedAt);
        else refuse(rt, req, res, { id: rt.nextId(), client, startedAt }, proxyAuthRequired(`${req.method ?? 'GET'} request`));
      },
      (error: unknown) => refuse(rt, req, res, { id: rt.nextId(), client, startedAt }, new MitmError('bad_request', String(error))),
    );
  };
}

/** Answers a request the proxy will not forward with `failure`, and records it as a flow. */
function refuse(rt: ProxyRuntime, req: InboundRequest, res: OutboundResponse, at: RefusalContext, failure: MitmError): void {
  respondWithError(res, failure);
  rt.emit('flow', refusalRecord(req, at, failure));
}

/** Where a refused request came from, for its flow record. */
export interface RefusalContext {
  readonly id: number;
  readonly client: FlowClient;
  readonly startedAt: number;
}

/** The flow record of a request answered with `failure` before anything was forwarded. */
export function refusalRecord(
  req: { readonly method?: string | undefined; readonly url?: string | undefined },
  at: RefusalContext,
  failure: MitmError,
): FlowRecord {
  return {
    id: at.id,
    method: req.method ?? 'GET',
    url: req.url ?? '',
    status: failure.status,
    contentType: 'text/plain',
    responseBytes: 0,
    durationMs: performance.now() - at.startedAt,
    error: { code: failure.code, message: failure.message },
    client: at.client,
    mode: at.client.mode ?? 'regular',
  };
}

/**
 * Resolves a parsed request to its origin: the CONNECT target for a request read inside a tunnel,
 * else the absolute URI of the request line. Throws a MitmError (bad_request, not_a_proxy_request,
 * `loop`, or the session's refusal) when there is none to forward to.
 */
export function resolveRequest(rt: ProxyRuntime, req: InboundRequest, session = rt.sessions.get(connectionOf(req))): Resolved {
  if (session?.refusal !== undefined) throw session.refusal;
  const resolved = session ? resolveInTunnel(session, req) : resolveAbsolute(req.url ?? '');
  if (rt.isSelf(resolved.origin)) throw new MitmError('loop', `${resolved.url} targets this proxy itself`);
  const marker = rt.exchangeDeps.viaMarker;
  // The raw list as the client sent it will do: pseudo-header fields and cookie crumbs are not Via.
  if (marker !== undefined && carriesVia(req.rawHeaders, marker)) {
    throw new MitmError('loop', `${resolved.url} already passed through this proxy (its Via header carries our marker)`);
  }
  return resolved;
}

/** A request sent to the proxy port itself: `GET http://host/path HTTP/1.1`. */
function resolveAbsolute(requestTarget: string): Resolved {
  const match = ABSOLUTE_FORM.exec(requestTarget);
  if (!match) {
    throw new MitmError(
      'not_a_proxy_request',
      "this is an HTTP(S) proxy, not a web server: set it as your client's proxy and request absolute URLs (http://host/path)",
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const secure = scheme === 'https';
  // Credentials in the URL are meant for the origin's Authorization, never logged or sent as-is.
  const authority = (match[2] as string).replace(/^.*@/, '');
  const target = parseAuthority(authority, secure ? 443 : 80);
  const path = originForm(match[3] as string);
  const hostHeader = formatAuthority(target, secure ? 443 : 80);
  return { origin: originTarget(target, secure), path, hostHeader, url: `${scheme}://${hostHeader}${path}` };
}

/**
 * A request read inside a tunnel: it goes to the CONNECT target whatever its Host header says. An
 * HTTP/2 request names its URL in pseudo-headers (RFC 9113 §8.3.1): https, :authority (else the
 * CONNECT target) and :path.
 */
function resolveInTunnel(session: TunnelSession, req: InboundRequest): Resolved {
  const requestTarget = req.url ?? '/';
  const absolute = requestTarget.startsWith('/') ? null : ABSOLUTE_FORM.exec(requestTarget);
  const path = originForm(absolute ? (absolute[3] as string) : requestTarget);
  const { origin, shownHost, scheme } = tunnelOrigin(session);
  if (session.rewriteHost === true) return { origin, path, hostHeader: shownHost, url: `${scheme}://${shownHost}${path}` };
  if (isH2Request(req)) {
    const authority = req.headers[':authority'] ?? req.headers.host;
    const named = authority === undefined ? shownHost : namedAuthority(session, authority);
    return { origin, path, hostHeader: authority ?? shownHost, url: `https://${named}${path}` };
  }
  // The client's Host goes on to the origin as it is (reverse with --keep-host, transparent,
  // intercepted tunnels): only a well-formed host[:port] (net/target.ts), else host_invalid.
  const host = req.headers.host;
  if (host !== undefined) checkHost(session, host);
  return { origin, path, hostHeader: host ?? shownHost, url: `${scheme}://${shownHost}${path}` };
}

// What every request of a tunnel shares, worked out once per tunnel rather than per request.
const tunnelOrigins = new WeakMap<TunnelSession, { origin: OriginTarget; shownHost: string; scheme: string }>();

function tunnelOrigin(session: TunnelSession): { origin: OriginTarget; shownHost: string; scheme: string } {
  let known = tunnelOrigins.get(session);
  if (known === undefined) {
    known = {
      origin: originTarget(session.target, session.secure, session.servername),
      shownHost: formatAuthority({ host: session.servername || session.target.host, port: session.target.port }, session.secure ? 443 : 80),
      scheme: session.secure ? 'https' : 'http',
    };
    tunnelOrigins.set(session, known);
  }
  return known;
}

// The requests of a connection name one Host, as a rule: the last one that passed, per tunnel.
const lastHost = new WeakMap<TunnelSession, string>();

/** Throws host_invalid unless `host` is a well-formed host[:port]; parsed once per tunnel while it stays the same. */
function checkHost(session: TunnelSession, host: string): void {
  if (lastHost.get(session) === host) return;
  parseAuthority(host, session.secure ? 443 : 80);
  lastHost.set(session, host);
}

// The streams of an HTTP/2 session name one :authority, as a rule: parsed once per tunnel, not per stream.
const lastAuthority = new WeakMap<TunnelSession, { authority: string; named: string }>();

/** An HTTP/2 request's :authority as the URL shows it (a well-formed host[:port], else host_invalid). */
function namedAuthority(session: TunnelSession, authority: string): string {
  const last = lastAuthority.get(session);
  if (last?.authority === authority) return last.named;
  const named = formatAuthority(parseAuthority(authority, 443), 443);
  lastAuthority.set(session, { authority, named });
  return named;
}

function originForm(pathAndQuery: string): string {
  if (pathAndQuery === '') return '/';
  return pathAndQuery.startsWith('/') || pathAndQuery === '*' ? pathAndQuery : `/${pathAndQuery}`;
}

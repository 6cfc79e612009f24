import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMitmError, MitmError } from '../errors.js';
import { respondWithError } from './error-response.js';
import { runExchange, type Exchange } from './exchange.js';
import type { ProxyRuntime, TunnelSession } from './runtime.js';
import { formatAuthority, parseAuthority, type Target } from './target.js';
import type { OriginTarget } from './upstream.js';

// absolute-form request target (RFC 9112 §3.2.2): scheme, authority, then path and query kept raw.
const ABSOLUTE_FORM = /^(https?):\/\/([^/?#]*)([^#]*)/i;

type Resolved = Omit<Exchange, 'id' | 'client' | 'connectionId' | 'startedAt'>;

/**
 * Returns the handler for every HTTP request the proxy parses: absolute-URI requests sent to the
 * proxy port, and origin-form requests read from inside intercepted CONNECT tunnels.
 */
export function createRequestHandler(rt: ProxyRuntime): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const startedAt = performance.now();
    const session = rt.sessions.get(req.socket);
    const client = session?.client ?? { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    const id = rt.nextId();
    let resolved: Resolved;
    try {
      resolved = session ? resolveInTunnel(session, req) : resolveAbsolute(req.url ?? '');
      if (rt.isSelf(resolved.origin)) throw new MitmError('proxy_loop', `${resolved.url} targets this proxy itself`);
    } catch (error) {
      const failure = isMitmError(error) ? error : new MitmError('bad_request', String(error));
      respondWithError(res, failure);
      rt.emit('flow', {
        id,
        method: req.method ?? 'GET',
        url: req.url ?? '',
        status: failure.status,
        contentType: 'text/plain',
        responseBytes: 0,
        durationMs: performance.now() - startedAt,
        error: { code: failure.code, message: failure.message },
        client,
      });
      return;
    }
    const connectionId = rt.connectionId(req.socket);
    void runExchange(rt.exchangeDeps, { ...resolved, id, client, connectionId, startedAt }, req, res);
  };
}

/** A request sent to the proxy port itself: `GET http://host/path HTTP/1.1`. */
function resolveAbsolute(requestTarget: string): Resolved {
  const match = ABSOLUTE_FORM.exec(requestTarget);
  if (!match) {
    throw new MitmError(
      'not_a_proxy_request',
      'this is an HTTP(S) proxy, not a web server: set it as your client\'s proxy and request absolute URLs (http://host/path)',
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const secure = scheme === 'https';
  // Credentials in the URL are meant for the origin's Authorization, never logged or sent as-is.
  const authority = (match[2] as string).replace(/^.*@/, '');
  const target = parseAuthority(authority, secure ? 443 : 80);
  const path = originForm(match[3] as string);
  const hostHeader = formatAuthority(target, secure ? 443 : 80);
  return { origin: originOf(target, secure, ''), path, hostHeader, url: `${scheme}://${hostHeader}${path}` };
}

/** A request read inside a tunnel: it goes to the CONNECT target whatever its Host header says. */
function resolveInTunnel(session: TunnelSession, req: IncomingMessage): Resolved {
  const requestTarget = req.url ?? '/';
  const absolute = ABSOLUTE_FORM.exec(requestTarget);
  const path = originForm(absolute ? (absolute[3] as string) : requestTarget);
  const scheme = session.secure ? 'https' : 'http';
  const shownHost = formatAuthority(
    { host: session.servername || session.target.host, port: session.target.port },
    session.secure ? 443 : 80,
  );
  return {
    origin: originOf(session.target, session.secure, session.servername),
    path,
    hostHeader: req.headers.host ?? shownHost,
    url: `${scheme}://${shownHost}${path}`,
  };
}

function originOf(target: Target, secure: boolean, sni: string): OriginTarget {
  const servername = sni || (isIP(target.host) === 0 ? target.host : '');
  return { host: target.host, port: target.port, secure, servername };
}

function originForm(pathAndQuery: string): string {
  if (pathAndQuery === '') return '/';
  return pathAndQuery.startsWith('/') || pathAndQuery === '*' ? pathAndQuery : `/${pathAndQuery}`;
}

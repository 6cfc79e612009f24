// The origin side's connections: the connector upstream.ts and websocket.ts open every origin
// connection with (so --upstream-proxy, --upstream-bypass and --client-cert apply everywhere), and
// the routing of plain-HTTP requests to an http(s) upstream proxy in absolute form, as proxies
// expect, rather than through a CONNECT tunnel (which many refuse for port 80).
import type http from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { MitmError } from '../errors.js';
import { TLS_BUFFERING } from '../net/buffers.js';
import type { OriginContexts } from './presented-certs.js';
import type { Dialer } from './dial.js';
import { h1Call, PlainOriginAgent } from './h1-origin.js';
import { formatAuthority } from '../net/target.js';
import type { OriginConnector } from './origin-connector.js';
import type { OriginCall, Upstream } from './upstream.js';
import { basicCredentials } from '../config/upstream-proxy.js';
import { closingController } from '../net/closing.js';
import { readPastWriteError } from '../net/read-past-write-error.js';

/** Creates the connector for `dialer` and the per-origin TLS contexts. */
export function createOriginConnector(options: {
  readonly dialer: Dialer;
  readonly contexts: OriginContexts;
  readonly insecure: boolean;
  readonly timeoutMs: number;
}): OriginConnector {
  return {
    dial: (target, signal) => options.dialer.dial(target, { timeoutMs: options.timeoutMs, ...(signal ? { signal } : {}) }),
    secure: (socket, tls) =>
      closedOnError(
        tlsConnect({
          socket,
          // '' means no SNI (an IP literal); Node then checks the certificate against `host`.
          servername: tls.servername,
          host: tls.host,
          secureContext: options.contexts(tls.servername || tls.host),
          rejectUnauthorized: !options.insecure,
          ...TLS_BUFFERING,
          ...(tls.ALPNProtocols ? { ALPNProtocols: tls.ALPNProtocols } : {}),
          // Resuming the origin's TLS session skips a full handshake on every new pooled connection.
          ...(tls.session ? { session: tls.session } : {}),
        }),
      ),
  };
}

/**
 * Closes `socket` on its first error. Node emits a TLS alert that arrives after the handshake
 * (a TLS 1.3 origin refuses a missing client certificate only then) without closing the socket,
 * so the origin's close that follows reached undici as a bare end, reported as "other side
 * closed" in place of the alert that names the reason.
 */
function closedOnError(socket: TLSSocket): TLSSocket {
  socket.once('error', () => socket.destroy());
  return socket;
}

/**
 * Wraps `upstream` so that plain-HTTP requests whose origin is routed to an http(s) upstream proxy
 * go to that proxy as absolute-form requests (RFC 9112 §3.2.2), with its credentials; TLS origins,
 * SOCKS5 and bypassed hosts are left to `upstream`, whose connector dials them.
 */
export function forwardPlainHttp(upstream: Upstream, dialer: Dialer, pool: http.AgentOptions, timeoutMs: number): Upstream {
  const proxy = dialer.proxy;
  if (proxy === undefined || proxy.protocol === 'socks5' || proxy.protocol === 'socks5h') return upstream;
  // Every request in this pool is addressed to the upstream proxy itself, so that is what it dials;
  // a failure names the origin of the request that asked for the connection (h1Call forOrigin).
  const closing = closingController();
  const agent = new PlainOriginAgent(pool, (options) =>
    dialer.dialProxy(proxy, options.forOrigin ?? proxy.label, { timeoutMs, signal: closing.signal }).then(readPastWriteError),
  );
  const credentials = proxy.credentials ? ['Proxy-Authorization', basicCredentials(proxy.credentials)] : [];
  return {
    request(origin, request) {
      if (origin.secure || dialer.route(origin) === undefined) return upstream.request(origin, request);
      const url = `http://${formatAuthority(origin, 80)}${request.path}`;
      const call = h1Call(
        agent,
        { host: proxy.host, port: proxy.port, secure: false, servername: '' },
        { ...request, path: url, headers: [...request.headers, ...credentials] },
        formatAuthority(origin),
      );
      return refusingProxyAuth(call, `upstream proxy ${proxy.label} refused ${request.method} ${formatAuthority(origin)}`);
    },
    adopt: (origin, socket) => upstream.adopt(origin, socket),
    prepare: (origin, socket) => upstream.prepare(origin, socket),
    hasSession: (origin) => upstream.hasSession(origin),
    close() {
      closing.abort();
      agent.destroy();
      upstream.close();
    },
  };
}

/**
 * A 407 from the upstream proxy is about our credentials, not the client's: passed on, it would
 * make the client believe this proxy wants a password. It becomes a 502 naming the upstream proxy.
 */
function refusingProxyAuth(call: OriginCall, what: string): OriginCall {
  return {
    response: call.response.then((response) => {
      if (response.status !== 407) return response;
      response.body.destroy();
      throw new MitmError('upstream_proxy_failed', `${what}: 407 ${response.statusMessage ?? 'Proxy Authentication Required'}`);
    }),
    destroy: (error) => call.destroy(error),
  };
}

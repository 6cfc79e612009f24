// The origin side of pooled requests: keep-alive agents whose connections are opened by the dialer
// (so --upstream-proxy and --upstream-bypass apply) and whose TLS uses the origin's context (so
// --client-cert applies). Plain-HTTP requests to an http(s) upstream proxy are sent to it in
// absolute form instead, as proxies expect, rather than through a CONNECT tunnel.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { OriginContexts } from './client-certs.js';
import type { Dialer } from './dial.js';
import { formatAuthority, type Target } from './target.js';
import { basicCredentials } from './upstream-proxy.js';

/** Opens one verified connection to an origin: the seam both HTTP/1.1 agents and other protocols use. */
export interface OriginConnector {
  /** A TCP stream to `target` through the dialer (direct, CONNECT or SOCKS5). */
  dial(target: Target): Promise<Socket>;
  /** TLS over `socket` with the origin's context (trust + matching --client-cert), verifying unless --insecure. */
  secure(socket: Socket, options: { servername: string; host: string; ALPNProtocols?: string[] | undefined }): TLSSocket;
}

/** Creates the connector for `dialer` and the per-origin TLS contexts. */
export function createOriginConnector(options: {
  readonly dialer: Dialer;
  readonly contexts: OriginContexts;
  readonly insecure: boolean;
  readonly timeoutMs: number;
}): OriginConnector {
  return {
    dial: (target) => options.dialer.dial(target, { timeoutMs: options.timeoutMs }),
    secure: (socket, tls) =>
      tlsConnect({
        socket,
        // '' means no SNI (an IP literal); Node then checks the certificate against `host`.
        servername: tls.servername,
        host: tls.host,
        secureContext: options.contexts(tls.servername || tls.host),
        rejectUnauthorized: !options.insecure,
        ...(tls.ALPNProtocols ? { ALPNProtocols: tls.ALPNProtocols } : {}),
      }),
  };
}

type Callback = (error: Error | null, socket: Duplex) => void;

/**
 * Hands an asynchronously opened connection to the agent: returning undefined tells it to wait
 * for the callback. A failure goes to the request, whose 'error' handler classifies it.
 */
function deliver(opening: Promise<Duplex>, callback: Callback | undefined): undefined {
  opening.then(
    (socket) => callback?.(null, socket),
    (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
  );
  return undefined;
}

/** An http.Agent whose connections come from `open` (asynchronously), pooled as usual. */
export class DialingAgent extends http.Agent {
  readonly #open: (options: http.ClientRequestArgs) => Promise<Duplex>;

  constructor(pool: http.AgentOptions, open: (options: http.ClientRequestArgs) => Promise<Duplex>) {
    super(pool);
    this.#open = open;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return deliver(this.#open(options), callback);
  }
}

/** The same for TLS origins: an https.Agent (so its pool keys include servername) that dials, then secures. */
export class DialingHttpsAgent extends https.Agent {
  readonly #open: (options: ConnectionOptions & http.ClientRequestArgs) => Promise<Duplex>;

  constructor(pool: https.AgentOptions, open: (options: ConnectionOptions & http.ClientRequestArgs) => Promise<Duplex>) {
    super(pool);
    this.#open = open;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return deliver(this.#open(options as ConnectionOptions & http.ClientRequestArgs), callback);
  }
}

/** Where one request goes on the wire: the origin itself, or an http(s) upstream proxy in absolute form. */
export interface OriginRoute {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Extra raw header pairs (Proxy-Authorization for an upstream proxy with credentials). */
  readonly headers: readonly string[];
  readonly agent: http.Agent;
}

/** Builds the three pools (TLS origins, plain origins, plain requests via an http(s) proxy) and routes requests to them. */
export function createOriginPools(
  pool: http.AgentOptions,
  dialer: Dialer,
  connector: OriginConnector,
  timeoutMs: number,
): { route(origin: Target & { secure: boolean }, path: string): OriginRoute; close(): void } {
  const target = (options: http.ClientRequestArgs): Target => ({ host: String(options.host), port: Number(options.port) });
  const secure = new DialingHttpsAgent(pool, async (options) =>
    connector.secure(await connector.dial(target(options)), {
      servername: typeof options.servername === 'string' ? options.servername : '',
      host: String(options.host),
      ALPNProtocols: Array.isArray(options.ALPNProtocols) ? options.ALPNProtocols.map(String) : undefined,
    }),
  );
  const plain = new DialingAgent(pool, (options) => connector.dial(target(options)));
  // Requests in this pool are addressed to the upstream proxy itself, so that is what it dials.
  const viaProxy = new DialingAgent(pool, () =>
    dialer.proxy ? dialer.dialProxy(dialer.proxy, { timeoutMs }) : Promise.reject(new Error('no upstream proxy is configured')),
  );
  return {
    route(origin, path) {
      const proxy = origin.secure ? undefined : dialer.route(origin);
      if (proxy === undefined || proxy.protocol === 'socks5' || proxy.protocol === 'socks5h') {
        return { host: origin.host, port: origin.port, path, headers: [], agent: origin.secure ? secure : plain };
      }
      // RFC 9112 §3.2.2: a request to a proxy names the whole URL; the proxy opens the connection.
      return {
        host: proxy.host,
        port: proxy.port,
        path: `http://${formatAuthority(origin, 80)}${path}`,
        headers: proxy.credentials ? ['Proxy-Authorization', basicCredentials(proxy.credentials)] : [],
        agent: viaProxy,
      };
    },
    close() {
      secure.destroy();
      plain.destroy();
      viaProxy.destroy();
    },
  };
}

import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { initCa } from '../ca/authority.js';
import { createCertCache } from '../ca/cert-cache.js';
import { createLeafMinter } from '../ca/mint-leaf.js';
import { parseProxyOptions } from '../config/load.js';
import type { ProxyConfig, ProxyOptions } from '../config/schema.js';
import { MitmError } from '../errors.js';
import { handleConnect } from './connect.js';
import { writeRawError } from './error-response.js';
import type { ProxyEventMap } from './events.js';
import { createHostPolicy } from './host-policy.js';
import { loadOriginTrust } from './origin-trust.js';
import { createRequestHandler } from './request-handler.js';
import type { ProxyRuntime, TunnelSession } from './runtime.js';
import type { Target } from './target.js';
import { createUpstream } from './upstream.js';

/** A proxy that is listening. Emits `flow`, `tunnel` and `client-issue` events (see events.ts). */
export interface RunningProxy extends EventEmitter<ProxyEventMap> {
  /** `http://HOST:PORT`: what clients set as their HTTP and HTTPS proxy. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The root CA certificate (PEM) clients must trust. */
  readonly caCertPem: string;
  readonly config: ProxyConfig;
  /** Stops listening and closes every client, tunnel and origin connection. */
  close(): Promise<void>;
}

// Clients commonly keep idle connections for a minute or more; Node's 5 s default would make
// them redo CONNECT and two TLS handshakes after every pause.
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 60_000;

/** Starts the proxy: loads or creates the CA, then listens (port 0 picks a free port). */
export async function startProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const config = parseProxyOptions(options);
  const [{ ca }, trust] = await Promise.all([initCa(config.ca), loadOriginTrust(config.upstreamCa)]);
  const certs = createCertCache(await createLeafMinter(ca), { max: config.leafCacheSize });
  const upstream = createUpstream(config, trust);
  const events = new EventEmitter<ProxyEventMap>();
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  // One HTTP server parses everything: requests on the proxy port and requests decrypted from
  // tunnels, which are handed to it as connections (https.Server does the same with TLS sockets).
  const server = http.createServer({ requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let listeningPort = 0;
  let flowId = 0;
  const sessions = new WeakMap<object, TunnelSession>();
  const rt: ProxyRuntime = {
    config,
    certs,
    forwardDeps: {
      upstream,
      timeoutMs: config.upstreamTimeout,
      onFlow: (record) => events.emit('flow', record),
    },
    decide: createHostPolicy(config),
    isSelf: (target) => target.port === listeningPort && isOwnHost(target, config.host),
    sessions,
    serveHttp: (socket, session) => {
      sessions.set(socket, session);
      server.emit('connection', socket);
    },
    track,
    emit: events.emit.bind(events),
    nextId: () => ++flowId,
  };

  server.on('connection', track);
  server.on('request', createRequestHandler(rt));
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => handleConnect(rt, req, socket, head));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const failure = tooLarge
      ? new MitmError('headers_too_large', 'request header fields too large (the limit is 16 KiB)')
      : new MitmError('bad_request', `malformed HTTP request (${error.code ?? error.message})`);
    const raw = socket as Socket;
    const session = sessions.get(socket);
    events.emit('client-issue', {
      host: session?.target.host,
      client: session?.client ?? { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 },
      code: failure.code === 'headers_too_large' ? 'headers_too_large' : 'bad_request',
      message: failure.message,
    });
    writeRawError(socket, failure);
  });

  listeningPort = await listen(server, config.host, config.port);
  const host = config.host;
  const url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${listeningPort}`;
  let closing: Promise<void> | undefined;
  return Object.assign(events, {
    url,
    host,
    port: listeningPort,
    caCertPem: ca.certPem,
    config,
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = once(server, 'close');
        server.close();
        for (const socket of sockets) socket.destroy();
        upstream.close();
        await closed;
      })();
      return closing;
    },
  });
}

async function listen(server: http.Server, host: string, port: number): Promise<number> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `port ${port} is already in use on ${host}`
        : code === 'EACCES'
          ? `permission denied to listen on ${host}:${port}`
          : code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine`
            : `cannot listen on ${host}:${port}: ${(error as Error).message}`;
    throw new MitmError('listen_failed', reason, { cause: error });
  }
  return (server.address() as AddressInfo).port;
}

function isOwnHost(target: Target, listenHost: string): boolean {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  return wildcard || target.host === listenHost || target.host === 'localhost' || /^127\.|^::1$/.test(target.host);
}

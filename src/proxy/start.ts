import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { initCa } from '../ca/authority.js';
import { createCertCache } from '../ca/cert-cache.js';
import { createLeafMinter } from '../ca/mint-leaf.js';
import { parseProxyOptions } from '../config/load.js';
import type { ProxyConfig, ProxyOptions } from '../config/schema.js';
import { loadHookFile } from '../hooks/load-hook-file.js';
import { HookPipeline } from '../hooks/pipeline.js';
import type { Hook } from '../hooks/types.js';
import { FlowStore } from '../record/flow-store.js';
import { MitmError } from '../errors.js';
import { createCertSniffer } from '../tls/cert-sniff.js';
import { handleConnect } from '../inbound/connect.js';
import { onFirstBytes } from '../inbound/first-bytes.js';
import { loadConnectivity } from './connectivity.js';
import { writeRawError } from '../exchange/error-response.js';
import { createHostPolicy } from '../inbound/host-policy.js';
import { createListener } from '../inbound/listener.js';
import { createOriginConnector, forwardPlainHttp } from '../origin/origin-agents.js';
import type { OriginLookup } from '../origin/dial.js';
import { createH2Front, speaksH2 } from '../inbound/h2-server.js';
import { createRequestHandler } from '../inbound/request-handler.js';
import type { ProxyRuntime, TunnelSession } from '../inbound/runtime.js';
import type { Target } from '../net/target.js';
import { ProxyHandle, type RunningProxy } from './proxy-handle.js';
import { serveSocks5 } from '../inbound/socks5-server.js';
import { createUpstream } from '../origin/upstream.js';
import { createH2WebSocketHandler, createUpgradeHandler } from '../websocket/websocket.js';

/** What `startProxy` accepts: every option of the schema, plus hooks (code, so not in the schema). */
export interface StartOptions extends ProxyOptions {
  /** Hooks to run on every flow, in this order, before any loaded with `hook` files or added by `use`. */
  readonly hooks?: readonly Hook[];
  /**
   * Resolves origin host names for every dial (default: the system's resolver); `resolve`
   * entries are looked up first. For embedders and tests with a DNS server of their own.
   */
  readonly lookup?: OriginLookup;
}

// Clients commonly keep idle connections for a minute or more; Node's 5 s default would make
// them redo CONNECT and two TLS handshakes after every pause.
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 60_000;

/** Starts the proxy: loads or creates the CA, then listens (port 0 picks a free port). */
export async function startProxy(options: StartOptions = {}): Promise<RunningProxy> {
  const { hooks: initialHooks = [], lookup, ...schemaOptions } = options;
  const config = parseProxyOptions(schemaOptions);
  const caLoaded = initCa(config.ca);
  const reachLoaded = loadConnectivity(config, lookup);
  // Both run at once, but a failure of one waits for the other: startProxy must not reject while
  // initCa is still writing the CA folder (a caller cleaning that folder up would race it).
  await Promise.allSettled([caLoaded, reachLoaded]);
  const [{ ca }, reach] = await Promise.all([caLoaded, reachLoaded]);
  const certs = createCertCache(await createLeafMinter(ca, config.leafKey), { max: config.leafCacheSize });
  // Every origin connection (pooled, WebSocket, sniffing) goes through the dialer and the
  // per-origin TLS contexts: --upstream-proxy, --upstream-bypass and --client-cert (connectivity.ts).
  const connector = createOriginConnector({
    dialer: reach.dialer,
    contexts: reach.originContexts,
    insecure: config.insecure,
    timeoutMs: config.upstreamTimeout,
  });
  const upstream = forwardPlainHttp(createUpstream(config, connector), reach.dialer, originPool(config), config.upstreamTimeout);
  // Aborted by close(): origin dials outside the upstream's pools (WebSockets, certificate sniffing) are abandoned.
  const closing = new AbortController();
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  // One HTTP server parses everything: requests on the proxy port and requests decrypted from
  // tunnels, which are handed to it as connections (https.Server does the same with TLS sockets).
  const server = http.createServer({ requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // The listener sniffs each connection's first byte: SOCKS5 greetings go to socks5-server.ts, the
  // rest to `server` (listener.ts).
  const listener = createListener(server, (socket) => serveSocks5(rt, socket), track);
  const store = new FlowStore(config.keep);
  const hooks = new HookPipeline((fault) => proxy.emit('hook-fault', fault));
  const proxy = new ProxyHandle({
    config,
    caCertPem: ca.certPem,
    store,
    hooks,
    teardown: async () => {
      reach.pinned?.stop();
      closing.abort();
      const closed = once(listener, 'close');
      listener.close();
      server.close();
      for (const socket of sockets) socket.destroy();
      upstream.close();
      await closed;
    },
  });
  for (const hook of initialHooks) hooks.use(hook);
  // In the order given, after the `hooks` option's; a bad file stops start-up before we listen.
  for (const file of config.hook) {
    for (const hook of await loadHookFile(file)) hooks.use(hook);
  }
  let flowId = 0;
  let connectionCount = 0;
  const connectionIds = new WeakMap<object, number>();
  const sessions = new WeakMap<object, TunnelSession>();
  const rt: ProxyRuntime = {
    config,
    ca,
    certs,
    dialer: reach.dialer,
    auth: reach.auth,
    pinned: reach.pinned,
    // For IP-literal CONNECTs; the sniffing connection then serves the first request (cert-sniff.ts).
    sniffer: createCertSniffer({
      dialer: reach.dialer,
      contexts: reach.originContexts,
      insecure: config.insecure,
      timeoutMs: config.upstreamTimeout,
      handOver: (origin, socket) => upstream.adopt(origin, socket),
      closing: closing.signal,
    }),
    hooks,
    exchangeDeps: {
      upstream,
      hooks,
      timeoutMs: config.upstreamTimeout,
      maxBodyBuffer: config.maxBodyBuffer,
      recordBodyLimit: config.keep > 0 ? config.recordBodyLimit : 0,
      onFlowEnd: (flow, record) => {
        proxy.emit('flow', record);
        store.add(flow);
        if (hooks.has('onFlowEnd')) void hooks.flowEnd(flow);
      },
    },
    decide: createHostPolicy(config),
    isSelf: (target) => target.port === proxy.port && isOwnHost(target, config.host),
    sessions,
    serveHttp: (socket, session) => {
      // A client that chose h2 in ALPN gets an HTTP/2 session (h2-server.ts); requests are then
      // resolved through the session object, as an HTTP/2 stream has no socket of its own.
      if (speaksH2(socket)) {
        h2.serve(socket, (h2Session) => sessions.set(h2Session, session));
        return;
      }
      sessions.set(socket, session);
      // Node's HTTP server sets up a parser, its listeners and an async resource for each
      // connection it is given, ~3 KiB; a tunnel a client opens and leaves idle (browsers open
      // them ahead of need) holds none of it until its first request arrives. Until then it is
      // closed when the client closes its side, or quietly after as long as a request head may take.
      onFirstBytes(socket, server.headersTimeout, () => {
        server.emit('connection', socket);
        socket.resume();
      });
    },
    track,
    emit: proxy.emit.bind(proxy),
    nextId: () => ++flowId,
    connectionId: (socket) => {
      let id = connectionIds.get(socket);
      if (id === undefined) connectionIds.set(socket, (id = ++connectionCount));
      return id;
    },
  };

  server.on('connection', track);
  const handleRequest = createRequestHandler(rt);
  server.on('request', handleRequest);
  // Extended CONNECT streams (RFC 8441) are WebSocket handshakes of HTTP/2 clients (websocket.ts).
  const h2 = createH2Front(handleRequest, KEEP_ALIVE_TIMEOUT_MS, createH2WebSocketHandler(rt, { connector, closing: closing.signal }));
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => handleConnect(rt, req, socket, head));
  // WebSocket upgrades (websocket.ts); any other upgrade is handed back to be parsed as a plain request.
  const reparse = (socket: Duplex, bytes: Buffer): void => {
    socket.unshift(bytes);
    server.emit('connection', socket);
  };
  server.on('upgrade', createUpgradeHandler(rt, { connector, closing: closing.signal, reparse }));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const failure = tooLarge
      ? new MitmError('headers_too_large', 'request header fields too large (the limit is 16 KiB)')
      : new MitmError('bad_request', `malformed HTTP request (${error.code ?? error.message})`);
    const raw = socket as Socket;
    const session = sessions.get(socket);
    proxy.emit('client-issue', {
      host: session?.target.host,
      client: session?.client ?? { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 },
      code: failure.code === 'headers_too_large' ? 'headers_too_large' : 'bad_request',
      message: failure.message,
    });
    writeRawError(socket, failure);
  });

  proxy.listeningOn(await listen(listener, config.host, config.port));
  return proxy;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
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

/** Pool limits for plain-HTTP requests sent to an http(s) upstream proxy, as upstream.ts sets them per origin. */
function originPool(config: ProxyConfig): http.AgentOptions {
  return { keepAlive: true, maxSockets: config.maxOriginConnections, maxFreeSockets: Math.min(config.maxOriginConnections, 32), scheduling: 'lifo', timeout: 60_000 };
}

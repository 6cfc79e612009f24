import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import http from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import { createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenerInfo, type ListenerInfo, type ModeSpec } from '../config/modes.js';
import { MitmError } from '../errors.js';
import { respondWithError, writeRawError } from '../exchange/error-response.js';
import { handleConnect } from '../inbound/connect.js';
import { onFirstBytes } from '../inbound/first-bytes.js';
import type { H2Request } from '../exchange/h2-client.js';
import { createH2Front, speaksH2, type H2Front } from '../inbound/h2-server.js';
import type { DnsServer } from '../inbound/dns-server.js';
import type { Admission } from '../inbound/admission.js';
import { createListener } from '../inbound/listener.js';
import { createRequestHandler } from '../inbound/request-handler.js';
import type { ProxyRuntime, TunnelSession } from '../inbound/runtime.js';
import { LANDING_HOST, type Target } from '../net/target.js';
import type { OriginConnector } from '../origin/upstream.js';
import { loadOnFirstUse } from './on-first-use.js';

/**
 * The per-connection limits of the client side (README "Limits"). The idle timeout defaults to a
 * minute: clients keep idle connections that long, and Node's 5 s default would make them redo
 * CONNECT and two TLS handshakes after every pause.
 */
export interface FrontLimits {
  readonly maxHeaderSize: number;
  readonly maxHeaders: number;
  readonly headersTimeout: number;
  readonly idleTimeout: number;
  readonly maxRequestsPerConnection: number;
  /** Who may connect and how many at once (inbound/admission.ts). */
  readonly admission: Admission;
}

/**
 * Where clients meet the proxy, as one object: the listener on the proxy port, the HTTP server that
 * parses every request (on the port and decrypted from tunnels), the HTTP/2 front, and the
 * bookkeeping of their sockets for counting, draining and closing. Built in two steps because the
 * runtime needs `serveHttp`/`track`/`sessions` and the handlers need the runtime: construct, build
 * the runtime, then `route(rt)`.
 */
export class ClientFront {
  /** The tunnel session of each connection that came through CONNECT (the runtime's `sessions`). */
  readonly sessions = new WeakMap<object, TunnelSession>();
  // One HTTP server parses everything: requests on the proxy port and requests decrypted from
  // tunnels, which are handed to it as connections (https.Server does the same with TLS sockets).
  readonly #server: http.Server;
  readonly #limits: FrontLimits;
  /** Bytes read from and written to client connections that have closed (open ones are added when asked). */
  readonly #closedBytes = { in: 0, out: 0 };
  /** Every socket to destroy on close: client connections, decrypted tunnels, relays. */
  readonly #sockets = new Set<Duplex>();
  /** Connections accepted on the proxy port. */
  readonly #clients = new Set<Socket>();
  readonly #h2Sessions = new Set<ServerHttp2Session>();
  #h2: H2Front | undefined;
  #rt: ProxyRuntime | undefined;
  /** Every TCP listener (one per --mode), once bound. */
  readonly #servers: Array<{ readonly server: Server; readonly closed: Promise<void>; readonly info: ListenerInfo }> = [];
  readonly #dns: DnsServer[] = [];
  readonly #dnsInfo: ListenerInfo[] = [];
  /** Our TCP listeners and the ports claimed as ours (claim()): where a request would loop back into the proxy. */
  readonly #own: Array<{ readonly host: string; readonly port: number }> = [];
  /** Handlers loaded after the ready line or on first use (on-first-use.ts), for preload(). */
  readonly #lazy: Array<{ preload(): void }> = [];
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(limits: FrontLimits) {
    this.#limits = limits;
    this.#server = http.createServer({
      requestTimeout: 0,
      headersTimeout: limits.headersTimeout,
      maxHeaderSize: limits.maxHeaderSize,
      // Node checks the headers timeout this often (default 30 s); a short timeout needs a shorter beat.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(limits.headersTimeout / 4))),
    });
    this.#server.keepAliveTimeout = limits.idleTimeout;
    this.#server.maxRequestsPerSocket = limits.maxRequestsPerConnection;
    // Node drops fields past maxHeadersCount silently; one more than the limit lets us see and refuse them.
    this.#server.maxHeadersCount = limits.maxHeaders + 1;
    this.#server.on('connection', this.track);
  }

  /** Registers a socket to be destroyed when the proxy closes. */
  readonly track = (socket: Duplex): void => {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  };

  /** Hands a decrypted tunnel to the HTTP/1.1 server or, if the client chose h2 in ALPN, to the HTTP/2 front. */
  readonly serveHttp = (socket: Socket, session: TunnelSession): void => {
    const h2 = this.#h2;
    if (h2 === undefined) throw new Error('ClientFront.route() must run before connections are served');
    // Requests are then resolved through the session object, as an HTTP/2 stream has no socket of its own.
    if (speaksH2(socket)) {
      h2.serve(socket, (h2Session) => this.#adoptH2Session(h2Session, session));
      return;
    }
    this.sessions.set(socket, session);
    // Node's HTTP server sets up a parser, its listeners and an async resource for each
    // connection it is given, ~3 KiB; a tunnel a client opens and leaves idle (browsers open
    // them ahead of need) holds none of it until its first request arrives. Until then it is
    // closed when the client closes its side, or quietly after as long as a request head may take.
    onFirstBytes(socket, this.#server.headersTimeout, () => {
      this.#server.emit('connection', socket);
      socket.resume();
    });
  };

  /** Client connections open now on the proxy port. */
  get connections(): number {
    return this.#clients.size;
  }

  /** Bytes received from and sent to clients on their connections (TLS records included), so far. */
  get clientBytes(): { readonly in: number; readonly out: number } {
    let read = this.#closedBytes.in;
    let written = this.#closedBytes.out;
    for (const socket of this.#clients) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    return { in: read, out: written };
  }

  /** Connects the request, CONNECT, upgrade and error handlers to `rt`; `closing` abandons WebSocket dials on close. */
  route(rt: ProxyRuntime, connector: OriginConnector, closing: AbortSignal): void {
    const server = this.#server;
    const handleRequest = createRequestHandler(rt);
    const tooMany = (req: http.IncomingMessage): MitmError | undefined =>
      req.rawHeaders.length / 2 > this.#limits.maxHeaders
        ? new MitmError('headers_too_large', `more than ${this.#limits.maxHeaders} request header fields (--max-headers)`)
        : undefined;
    // While draining, a connection whose exchange ended is idle: close it rather than keep it alive.
    // One listener for every response ('close' comes once), not a closure and a once() wrapper each.
    const closeIdleIfDraining = (): void => {
      if (this.#draining) setImmediate(() => server.closeIdleConnections());
    };
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.on('close', closeIdleIfDraining);
      const failure = tooMany(req);
      if (failure === undefined) handleRequest(req, res);
      else this.#clientError(rt, failure, req.socket);
    });
    // Extended CONNECT streams (RFC 8441) are WebSocket handshakes of HTTP/2 clients (websocket.ts),
    // loaded as the HTTP/1.1 upgrade handler below.
    const h2WebSocket = this.#lazily(
      loadOnFirstUse(
        async () => (await import('../websocket/websocket.js')).createH2WebSocketHandler(rt, { connector, closing }),
        (req: H2Request) => req.stream,
      ),
    );
    this.#h2 = createH2Front(
      {
        onRequest: handleRequest,
        onConnect: h2WebSocket,
        onTooLarge: (req, res, failure) => {
          this.#reportClientError(rt, failure, req.stream.session ?? req.socket, req.socket);
          respondWithError(res, failure);
        },
      },
      { idleMs: this.#limits.idleTimeout, maxHeaderSize: this.#limits.maxHeaderSize, maxHeaders: this.#limits.maxHeaders },
    );
    server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const failure = tooMany(req);
      if (failure === undefined) handleConnect(rt, req, socket, head);
      else this.#clientError(rt, failure, socket);
    });
    // WebSocket upgrades (websocket.ts); any other upgrade is handed back to be parsed as a plain request.
    const reparse = (socket: Duplex, bytes: Buffer): void => {
      socket.unshift(bytes);
      server.emit('connection', socket);
    };
    // The WebSocket relay is loaded after the ready line, or on the first upgrade if that comes
    // first, rather than before it (start-up time, docs/performance.md).
    const upgrade = this.#lazily(
      loadOnFirstUse(
        async () => (await import('../websocket/websocket.js')).createUpgradeHandler(rt, { connector, closing, reparse }),
        (_req: http.IncomingMessage, socket: Duplex) => socket,
      ),
    );
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const failure = tooMany(req);
      if (failure === undefined) upgrade(req, socket, head);
      else this.#clientError(rt, failure, socket);
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.#clientError(rt, parserFailure(error, this.#limits.maxHeaderSize), socket),
    );
    this.#rt = rt;
  }

  /**
   * Binds one listener per mode, TCP ones first (a DNS listener answers with a transparent one's
   * address). If any cannot bind, those already bound are closed again and the error names the
   * address, so nothing is left listening.
   */
  async listen(modes: readonly ModeSpec[], defaults: { host: string; port: number }, dns: DnsSettings): Promise<readonly ListenerInfo[]> {
    const rt = this.#runtime();
    try {
      for (const mode of modes) {
        if (mode.kind === 'dns') continue;
        const host = mode.listen?.host ?? defaults.host;
        const server = await this.#createServer(rt, mode);
        // net.Server emits 'close' once it stopped listening and its last connection ended.
        const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
        server.listen(mode.listen?.port ?? defaults.port, host);
        try {
          await once(server, 'listening');
        } catch (error) {
          throw listenError(error, host, mode.listen?.port ?? defaults.port);
        }
        const info = listenerInfo(mode, host, (server.address() as AddressInfo).port);
        this.#servers.push({ server, closed, info });
        this.#own.push(info);
        // accept() failing (EMFILE, ENFILE) must not take the proxy down: the connection limit keeps
        // us under the open-file limit, and whatever slips past it costs that one connection.
        server.on('error', () => undefined);
        // The http.Server starts the timers that enforce headersTimeout and requestTimeout on
        // 'listening', which it never sees itself (it never listens): hand it the first of ours.
        if (this.#servers.length === 1) this.#server.emit('listening');
      }
      for (const mode of modes) {
        if (mode.kind !== 'dns') continue;
        const host = mode.listen.host ?? defaults.host;
        // dns-packet is loaded only when a DNS listener is asked for.
        const { startDnsServer } = await import('../inbound/dns-server.js');
        const dnsServer = await startDnsServer({
          host,
          port: mode.listen.port,
          intercepts: (name) => name === LANDING_HOST || rt.decide(name).action === 'intercept',
          answer: dnsAnswer(dns.answer, this.listeners),
          upstream: dns.upstream,
          timeoutMs: 5_000,
          onQuery: () => {},
        }).catch((error: unknown) => {
          throw listenError(error, host, mode.listen.port);
        });
        this.#dns.push(dnsServer);
        this.#dnsInfo.push(listenerInfo(mode, host, dnsServer.address.port));
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.listeners;
  }

  /** The bound listeners, in the order of the modes. */
  get listeners(): readonly ListenerInfo[] {
    return [...this.#servers.map(({ info }) => info), ...this.#dnsInfo];
  }

  /** True when `target` is one of our own TCP listeners or claimed ports (a request would loop back into the proxy). */
  ownsTarget(target: Target): boolean {
    // Asked for every request: no list is built for it.
    return this.#own.some((listener) => listener.port === target.port && isOwnHost(target, listener.host));
  }

  /** True when a connection to `address:port` reached one of our TCP listeners or claimed ports. */
  ownsEndpoint(address: string, port: number): boolean {
    const host = address.replace(/^::ffff:/, '');
    return this.#own.some(
      (listener) =>
        listener.port === port && (isLoopback(host) || host === listener.host || (isWildcard(listener.host) && localAddresses().has(host))),
    );
  }

  /** Counts another of the process's listeners (the web inspector) as ours, so the proxy never forwards to it. */
  claim(listener: { readonly host: string; readonly port: number }): void {
    this.#own.push(listener);
  }

  /**
   * Stops accepting connections and closes the idle ones (HTTP/1.1 between requests, HTTP/2
   * sessions by GOAWAY once their streams end); resolves when the last client connection has closed.
   */
  drain(): Promise<void> {
    this.#draining = true;
    for (const { server } of this.#servers) server.close();
    for (const dnsServer of this.#dns) void dnsServer.close();
    this.#server.closeIdleConnections();
    for (const session of this.#h2Sessions) session.close();
    if (this.#clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /** Stops listening and destroys every socket at once; resolves when the listener has closed. */
  async close(): Promise<void> {
    for (const { server } of this.#servers) server.close();
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([...this.#servers.map(({ closed }) => closed), ...this.#dns.map((dnsServer) => dnsServer.close())]);
  }

  #runtime(): ProxyRuntime {
    if (this.#rt === undefined) throw new Error('ClientFront.route() must run before listen()');
    return this.#rt;
  }

  /**
   * The TCP listener of one mode. regular: SOCKS5 or HTTP by the first byte (listener.ts);
   * transparent and reverse: the first bytes go to their handler (transparent.ts, reverse.ts).
   */
  async #createServer(rt: ProxyRuntime, mode: Exclude<ModeSpec, { kind: 'dns' }>): Promise<Server> {
    if (mode.kind === 'regular')
      return createListener(
        this.#server,
        // SOCKS5, as the WebSocket relay: after the ready line, or on the first SOCKS5 connection.
        this.#lazily(
          loadOnFirstUse(
            async () => {
              const { serveSocks5 } = await import('../inbound/socks5-server.js');
              return (socket: Socket) => serveSocks5(rt, socket);
            },
            (socket: Socket) => socket,
          ),
        ),
        (socket) => this.#accept(socket, mode.kind),
      );
    // Loaded with the listener that needs it: a regular one never does.
    const serve =
      mode.kind === 'transparent'
        ? await import('../inbound/transparent.js').then(
            ({ serveTransparent }) =>
              (socket: Socket, first: Buffer) =>
                serveTransparent(rt, { originPort: mode.originPort }, socket, first),
          )
        : await import('../inbound/reverse.js').then(
            ({ serveReverse }) =>
              (socket: Socket, first: Buffer) =>
                serveReverse(rt, { origin: mode.origin, keepHost: rt.config.keepHost }, socket, first),
          );
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (!this.#accept(socket, mode.kind)) return;
      onFirstBytes(socket, this.#server.headersTimeout, (first) => serve(socket, first));
    });
    return server;
  }

  /** Starts loading the handlers loaded on first use (startProxy's warm-up, once listening). */
  preload(): void {
    for (const handler of this.#lazy) handler.preload();
  }

  #lazily<H extends { preload(): void }>(handler: H): H {
    this.#lazy.push(handler);
    return handler;
  }

  /** Counts an accepted connection, or refuses it (admission.ts) and returns false. */
  #accept(socket: Socket, kind: string): boolean {
    if (!this.#limits.admission.admit(socket, kind)) return false;
    this.track(socket);
    this.#clients.add(socket);
    socket.once('close', () => {
      this.#closedBytes.in += socket.bytesRead;
      this.#closedBytes.out += socket.bytesWritten;
      this.#clients.delete(socket);
      if (this.#clients.size === 0) this.#drained?.();
    });
    return true;
  }

  #adoptH2Session(h2Session: ServerHttp2Session, session: TunnelSession): void {
    this.sessions.set(h2Session, session);
    this.#h2Sessions.add(h2Session);
    h2Session.once('close', () => this.#h2Sessions.delete(h2Session));
    if (this.#draining) h2Session.close();
  }

  /** A request the HTTP parser or a limit refused: reported as a `client-issue`, answered 400 or 431, closed. */
  #clientError(rt: ProxyRuntime, failure: MitmError, socket: Duplex): void {
    this.#reportClientError(rt, failure, socket, socket);
    writeRawError(socket, failure);
  }

  /** Emits `client-issue` for a refused request; `key` finds its tunnel session (a socket, or an HTTP/2 session). */
  #reportClientError(rt: ProxyRuntime, failure: MitmError, key: object, socket: Duplex): void {
    const raw = socket as Socket;
    const session = this.sessions.get(key);
    rt.emit('client-issue', {
      host: session?.target.host,
      client: session?.client ?? { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 },
      code: failure.code === 'headers_too_large' ? 'headers_too_large' : 'bad_request',
      message: failure.message,
    });
  }
}

/** The error a parser failure is answered with: 431 for a head over `maxHeaderSize`, else 400. */
function parserFailure(error: NodeJS.ErrnoException, maxHeaderSize: number): MitmError {
  return error.code === 'HPE_HEADER_OVERFLOW'
    ? new MitmError('headers_too_large', `request header fields too large (the limit is ${maxHeaderSize} bytes, --max-header-size)`)
    : new MitmError('bad_request', `malformed HTTP request (${error.code ?? error.message})`);
}

/** What DNS listeners answer with and forward to. */
export interface DnsSettings {
  /** `--dns-answer`; else the first transparent listener's address. */
  readonly answer: string | undefined;
  readonly upstream: { readonly host: string; readonly port: number };
}

function dnsAnswer(
  configured: string | undefined,
  listeners: readonly ListenerInfo[],
): { ipv4: string | undefined; ipv6: string | undefined } {
  const address = configured ?? listeners.find((listener) => listener.kind === 'transparent')?.host;
  if (address === undefined || isIP(address) === 0 || address === '0.0.0.0' || address === '::') {
    throw new MitmError(
      'config_invalid',
      "a dns listener answers with the transparent listener's address: add --mode transparent@ADDR:443 on a specific address, or name it with --dns-answer ADDR",
    );
  }
  return isIP(address) === 4 ? { ipv4: address, ipv6: undefined } : { ipv4: undefined, ipv6: address };
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1';
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

// This machine's own interface addresses: where a listener on 0.0.0.0 or :: can be reached.
function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address)));
}

function isOwnHost(target: Target, listenHost: string): boolean {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  return wildcard || target.host === listenHost || target.host === 'localhost' || /^127\.|^::1$/.test(target.host);
}

function listenError(error: unknown, host: string, port: number): MitmError {
  if (error instanceof MitmError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use on ${host}`
      : code === 'EACCES'
        ? `permission denied to listen on ${host}:${port}`
        : code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine`
          : `cannot listen on ${host}:${port}: ${(error as Error).message}`;
  return new MitmError('listen_failed', reason, { cause: error });
}

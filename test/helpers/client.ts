import { once } from 'node:events';
import { Agent, request, type ClientRequestArgs, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** A complete response read by the Node client. */
export interface NodeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** The socket it came over (for keep-alive checks). */
  readonly socket: Duplex;
}

/** What to send. */
export interface SendOptions extends ClientRequestArgs {
  readonly body?: string | Buffer;
}

/** Sends one request with `node:http` and reads the whole response. */
export async function send(options: SendOptions): Promise<NodeResponse> {
  const { body, ...args } = options;
  const req = request(args);
  req.end(body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return { status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8'), socket: res.socket };
}

/** A plain-HTTP request through the proxy: the absolute URL goes in the request line. */
export function sendViaProxy(proxyPort: number, url: string, options: SendOptions = {}): Promise<NodeResponse> {
  return send({
    agent: false,
    ...options,
    host: '127.0.0.1',
    port: proxyPort,
    path: url,
    setHost: false,
    headers: { host: new URL(url).host, ...(options.headers as Record<string, string> | undefined) },
  });
}

/** The proxy's answer to CONNECT and, when it is 200, the tunnel socket. */
export interface Tunnel {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/** Sends `CONNECT authority` to the proxy and resolves with its answer (any status). */
export async function openTunnel(proxyPort: number, authority: string): Promise<Tunnel> {
  const req = request({
    host: '127.0.0.1',
    port: proxyPort,
    method: 'CONNECT',
    path: authority,
    headers: { host: authority },
    agent: false,
  });
  req.end();
  const [res, socket, head] = (await once(req, 'connect')) as [IncomingMessage, Socket, Buffer];
  if (head.length > 0) socket.unshift(head);
  return { status: res.statusCode ?? 0, headers: res.headers, socket };
}

/** A CONNECT the proxy answered with an error: its status, headers and one-line body. */
export interface ConnectRefusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** Sends `CONNECT authority` and reads the whole answer, which must not be a 200 (the proxy closes after an error). */
export async function refusedConnect(proxyPort: number, authority: string): Promise<ConnectRefusal> {
  const tunnel = await openTunnel(proxyPort, authority);
  if (tunnel.status === 200) {
    tunnel.socket.destroy();
    throw new Error(`CONNECT ${authority} was answered 200`);
  }
  const chunks: Buffer[] = [];
  tunnel.socket.on('error', () => {});
  for await (const chunk of tunnel.socket) chunks.push(chunk as Buffer);
  return { status: tunnel.status, headers: tunnel.headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** TLS options for the client side of an intercepted tunnel. */
export interface TunnelTlsOptions {
  /** Trusted roots: the proxy's CA for intercepted hosts. */
  readonly ca: string;
  /** SNI and the name checked against the leaf; leave out for IP literals (then `host` is checked). */
  readonly servername?: string | undefined;
  readonly host?: string;
}

/** CONNECTs through the proxy, then runs a verifying TLS handshake over the tunnel. */
export async function openTlsTunnel(proxyPort: number, authority: string, tls: TunnelTlsOptions): Promise<TLSSocket> {
  const tunnel = await openTunnel(proxyPort, authority);
  if (tunnel.status !== 200) {
    tunnel.socket.destroy();
    throw new Error(`CONNECT ${authority} answered ${tunnel.status}`);
  }
  const socket = tlsConnect({ socket: tunnel.socket, ca: tls.ca, servername: tls.servername, host: tls.host });
  await once(socket, 'secureConnect');
  return socket;
}

/** Opens a raw TCP connection to the proxy. */
export async function connectRaw(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Writes `bytes`, half-closes, and collects everything the peer sends until it closes. */
export async function exchangeRaw(port: number, bytes: string | Buffer): Promise<Buffer> {
  const socket = await connectRaw(port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A reset after the answer is a legitimate way to refuse garbage; what was received still counts.
  socket.on('error', () => {});
  socket.end(bytes);
  // Not `once(socket, 'close')`: that rejects on the reset, which may come before 'close'.
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return Buffer.concat(chunks);
}

/**
 * An agent whose every connection is a CONNECT tunnel through the proxy plus a verifying TLS
 * handshake with the proxy's CA: plain `http.request` calls through it speak HTTPS to the origin
 * via the interception path, with the Agent's keep-alive pooling. Note that `Agent` counts a
 * socket towards `maxSockets` only once it is delivered, so requests issued while tunnels are
 * still opening each open their own.
 */
export class MitmAgent extends Agent {
  /** How many tunnels this agent opened. */
  tunnelsOpened = 0;
  readonly #proxyPort: number;
  readonly #ca: string;

  constructor(proxyPort: number, ca: string, options: { maxSockets?: number; keepAlive?: boolean } = {}) {
    super({ keepAlive: true, ...options });
    this.#proxyPort = proxyPort;
    this.#ca = ca;
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? 'localhost';
    const authority = `${host}:${String(options.port)}`;
    this.tunnelsOpened += 1;
    const servername = /^[\d.]+$/.test(host) ? undefined : host;
    openTlsTunnel(this.#proxyPort, authority, { ca: this.#ca, servername, host }).then(
      (socket) => callback?.(null, socket),
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

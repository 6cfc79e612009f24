import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { listenLocal } from './listen.js';
import { Recorder } from './proxy.js';

/** What an upstream proxy under test was asked to do. */
export interface UpstreamRequest {
  /** `CONNECT` for tunnels, the HTTP method for absolute-form requests, `SOCKS5` for SOCKS CONNECTs. */
  readonly method: string;
  /** `host:port` for CONNECT and SOCKS5, the absolute URL for forwarded requests. */
  readonly target: string;
  /** The Proxy-Authorization header, or the SOCKS5 `user:password`, as received. */
  readonly credentials: string | undefined;
  /** For SOCKS5: the address type the client used (1 IPv4, 3 domain name, 4 IPv6). */
  readonly atyp?: number;
}

/** A local upstream proxy started by a test. */
export interface TestUpstreamProxy {
  readonly port: number;
  readonly requests: Recorder<UpstreamRequest>;
  close(): Promise<void>;
}

/**
 * A tiny HTTP proxy on 127.0.0.1: CONNECT (answered 200 once the target accepts the connection,
 * then a raw pipe) and absolute-form requests (forwarded with node:http). With `credentials`
 * (a full `Proxy-Authorization` value) anything else is answered 407. With `tls` it is an https://
 * proxy: clients speak TLS to the proxy itself.
 */
export async function startHttpUpstreamProxy(
  options: { credentials?: string; tls?: { cert: string; key: string } } = {},
): Promise<TestUpstreamProxy> {
  const requests = new Recorder<UpstreamRequest>();
  const allowed = (header: string | undefined): boolean => options.credentials === undefined || header === options.credentials;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const credentials = req.headers['proxy-authorization'];
    requests.push({ method: req.method ?? '', target: req.url ?? '', credentials });
    if (!allowed(credentials)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="upstream"' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const forwarded = request(req.url ?? '', { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const credentials = req.headers['proxy-authorization'];
    requests.push({ method: 'CONNECT', target: req.url ?? '', credentials });
    client.on('error', () => client.destroy());
    if (!allowed(credentials)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="upstream"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = splitAuthority(req.url ?? '');
    const origin = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) origin.write(head);
      pipeBoth(client, origin);
    });
    origin.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  return listening(server, requests);
}

/**
 * A SOCKS5 server on 127.0.0.1 (RFC 1928 CONNECT, written independently of src/): no
 * authentication, or RFC 1929 username/password when `auth` is given.
 */
export async function startSocksUpstream(options: { auth?: { user: string; password: string } } = {}): Promise<TestUpstreamProxy> {
  const requests = new Recorder<UpstreamRequest>();
  const server = createNetServer((client) => {
    client.on('error', () => client.destroy());
    void negotiate(client, options.auth).then((result) => {
      if (result === undefined) return;
      requests.push({ method: 'SOCKS5', target: `${result.host}:${result.port}`, credentials: result.credentials, atyp: result.atyp });
      const origin = connect(result.port, result.host, () => {
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        pipeBoth(client, origin);
      });
      origin.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
    });
  });
  return listening(server, requests);
}

async function negotiate(
  client: Socket,
  auth: { user: string; password: string } | undefined,
): Promise<{ host: string; port: number; atyp: number; credentials: string | undefined } | undefined> {
  const read = byteReader(client);
  const [, count = 0] = await read(2);
  const methods = await read(count);
  let credentials: string | undefined;
  if (auth) {
    if (!methods.includes(2)) {
      client.end(Buffer.from([5, 0xff]));
      return undefined;
    }
    client.write(Buffer.from([5, 2]));
    const [, userLength = 0] = await read(2);
    const user = (await read(userLength)).toString();
    const [passwordLength = 0] = await read(1);
    const password = (await read(passwordLength)).toString();
    credentials = `${user}:${password}`;
    const ok = user === auth.user && password === auth.password;
    client.write(Buffer.from([1, ok ? 0 : 1]));
    if (!ok) {
      client.end();
      return undefined;
    }
  } else {
    client.write(Buffer.from([5, 0]));
  }
  const [, , , atyp = 0] = await read(4);
  let host: string;
  if (atyp === 1) host = [...(await read(4))].join('.');
  else if (atyp === 3) host = (await read((await read(1))[0] ?? 0)).toString();
  else host = (await read(16)).toString('hex').replace(/(.{4})(?!$)/g, '$1:');
  const port = (await read(2)).readUInt16BE(0);
  client.removeAllListeners('data');
  return { host, port, atyp, credentials };
}

/** Reads exact byte counts from a socket, for the handshake only. */
function byteReader(socket: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  return async (n) => {
    while (buffered.length < n) await new Promise<void>((resolve) => (wake = resolve));
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

function splitAuthority(authority: string): [string, number] {
  const at = authority.lastIndexOf(':');
  return [authority.slice(0, at).replace(/^\[|\]$/g, ''), Number(authority.slice(at + 1))];
}

async function listening(server: Server, requests: Recorder<UpstreamRequest>): Promise<TestUpstreamProxy> {
  const { port, close } = await listenLocal(server);
  return { port, requests, close };
}

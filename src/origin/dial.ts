// Every connection towards an origin starts here: pass-through tunnels (connect.ts), pooled
// origin connections (upstream.ts) and certificate sniffing (cert-sniff.ts). With --upstream-proxy
// the bytes go through that proxy, which only ever sees a tunnel: TLS to the origin is still ours,
// end to end, and verified as if we had dialled directly.
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import { MitmError } from '../errors.js';
import { HandshakeReader } from '../net/handshake-reader.js';
import { socksConnect, SocksClientError } from '../net/socks5-wire.js';
import { createResolveMap } from '../net/resolve-map.js';
import { formatAuthority, type Target } from '../net/target.js';
import { noteDial } from './origin-connection.js';
import { classifyUpstreamError } from './upstream-error.js';
import { basicCredentials, createBypass, parseUpstreamProxy, type UpstreamProxy } from '../config/upstream-proxy.js';

/** Bounds on one dial. */
export interface DialOptions {
  /** Time allowed for the whole dial, upstream proxy handshake included (then `upstream_timeout`). */
  readonly timeoutMs: number;
  /** Aborts the dial, e.g. when the client that wanted it went away. */
  readonly signal?: AbortSignal;
}

/**
 * Resolves an origin host name to the IP address to connect to; rejects like `dns.lookup` does
 * (`ENOTFOUND`...). The default is the system's resolver (Node's own lookup in `net.connect`).
 */
export type OriginLookup = (hostname: string) => Promise<string>;

/** Opens connections towards origins, directly or through the upstream proxy. */
export interface Dialer {
  /** The upstream proxy, when one is configured. */
  readonly proxy: UpstreamProxy | undefined;
  /** The upstream proxy a connection to `target` goes through; undefined when it is dialled directly. */
  route(target: Target): UpstreamProxy | undefined;
  /**
   * A connected byte stream to `target`: plain TCP, a CONNECT tunnel through an http(s) proxy, or a
   * SOCKS5 CONNECT. Rejects with a `MitmError` whose message names the origin, and the proxy if any.
   */
  dial(target: Target, options: DialOptions): Promise<Socket>;
  /**
   * A connection to the upstream proxy itself (TLS for https://), for plain-HTTP requests sent to it
   * in absolute form; `origin` (host:port) is the request's, named in the error as `dial` does.
   */
  dialProxy(proxy: UpstreamProxy, origin: string, options: DialOptions): Promise<Socket>;
}

// An upstream proxy's answer to CONNECT is a short head; anything longer is not a proxy talking.
const MAX_CONNECT_HEAD = 16 * 1024;

/** What the dialer is built from: the upstream proxy options, `--resolve`, and an optional own resolver. */
export interface DialerSettings {
  readonly upstreamProxy?: string | undefined;
  readonly upstreamBypass?: string | undefined;
  /** `--resolve NAME=ADDR` entries (resolve-map.ts). */
  readonly resolve?: readonly string[] | undefined;
  readonly lookup?: OriginLookup | undefined;
  /**
   * True when a direct connection reached one of this process's own listeners (by the connected
   * address and port): a name that resolves to the proxy itself would loop back into it.
   */
  readonly isOwnEndpoint?: ((address: string, port: number) => boolean) | undefined;
}

/**
 * Creates the dialer for `--upstream-proxy` / `--upstream-bypass` / `--resolve`; `trust` (called
 * when one is first dialled) verifies an https:// proxy's certificate.
 */
export function createDialer(settings: DialerSettings, trust: () => SecureContext): Dialer {
  const proxy = settings.upstreamProxy === undefined ? undefined : parseUpstreamProxy(settings.upstreamProxy);
  const bypass = createBypass(settings.upstreamBypass);
  const route = (target: Target): UpstreamProxy | undefined => (proxy && !bypass(target) ? proxy : undefined);
  const resolved = createResolveMap(settings.resolve ?? []);
  const ownLookup = settings.lookup;
  // Where a name is connected to when we resolve it ourselves: --resolve first, then the own
  // resolver; left to net.connect's lookup (the system's, with its address-family fallback) otherwise.
  const endpoint = async (target: Target, authority: string, always: boolean): Promise<Target> => {
    if (isIP(target.host) !== 0) return target;
    const mapped = resolved?.(target.host);
    if (mapped !== undefined) return { host: mapped, port: target.port };
    if (!ownLookup && !always) return target;
    try {
      return { host: ownLookup ? await ownLookup(target.host) : (await systemLookup(target.host)).address, port: target.port };
    } catch (error) {
      throw classifyUpstreamError(error, authority);
    }
  };

  const openToProxy = async (via: UpstreamProxy, origin: string, adopt: (socket: Socket) => void): Promise<Socket> => {
    try {
      return await connectTo(via, via.protocol === 'https' ? trust() : undefined, adopt);
    } catch (error) {
      throw new MitmError('upstream_proxy_failed', `cannot reach upstream proxy ${via.label} for ${origin}: ${proxyReason(error)}`, {
        cause: error,
      });
    }
  };

  return {
    proxy,
    route,
    dial(target, options) {
      const authority = formatAuthority(target);
      const via = route(target);
      const timeout = (): MitmError =>
        new MitmError(
          'upstream_timeout',
          via
            ? `connecting to ${authority} through upstream proxy ${via.label} timed out after ${options.timeoutMs} ms`
            : `connecting to ${authority} timed out after ${options.timeoutMs} ms`,
        );
      return bounded(options, timeout, async (adopt) => {
        if (!via) {
          const address = await endpoint(target, authority, false);
          let socket: Socket;
          try {
            socket = await connectTo(address, undefined, adopt);
          } catch (error) {
            throw classifyUpstreamError(error, authority);
          }
          if (settings.isOwnEndpoint?.(socket.remoteAddress ?? '', socket.remotePort ?? 0) === true) {
            socket.destroy();
            throw new MitmError('loop', `${authority} is this proxy itself (it resolves to one of its own listeners)`);
          }
          return socket;
        }
        const socket = await openToProxy(via, authority, adopt);
        const reader = new HandshakeReader(socket);
        try {
          if (via.protocol === 'http' || via.protocol === 'https') {
            await httpConnect(socket, reader, via, authority);
          } else {
            // socks5:// gets an address resolved here, as curl does; socks5h:// the name.
            const host = via.protocol === 'socks5' ? (await endpoint(target, authority, true)).host : target.host;
            await socksConnect(socket, reader, { host, port: target.port }, via.credentials).catch((error: unknown) => {
              const reason = error instanceof SocksClientError ? error.message : 'it closed the connection during the SOCKS5 handshake';
              throw new MitmError('upstream_proxy_failed', `upstream proxy ${via.label} (SOCKS5) refused CONNECT ${authority}: ${reason}`, {
                cause: error,
              });
            });
          }
        } catch (error) {
          socket.destroy();
          throw error;
        } finally {
          reader.release();
        }
        return socket;
      });
    },
    dialProxy(via, origin, options) {
      const timeout = (): MitmError =>
        new MitmError(
          'upstream_timeout',
          `connecting to upstream proxy ${via.label} for ${origin} timed out after ${options.timeoutMs} ms`,
        );
      return bounded(options, timeout, (adopt) => openToProxy(via, origin, adopt));
    },
  };
}

/** Sends CONNECT to an http(s) proxy and reads its answer; resolves when it is 2xx. */
async function httpConnect(socket: Socket, reader: HandshakeReader, via: UpstreamProxy, authority: string): Promise<void> {
  const auth = via.credentials ? `Proxy-Authorization: ${basicCredentials(via.credentials)}\r\n` : '';
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  let head: string;
  try {
    head = (await reader.readUntil('\r\n\r\n', MAX_CONNECT_HEAD)).toString('latin1');
  } catch (error) {
    throw new MitmError(
      'upstream_proxy_failed',
      `upstream proxy ${via.label} closed the connection before answering CONNECT ${authority} (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?/.exec(head);
  if (!status)
    throw new MitmError(
      'upstream_proxy_failed',
      `upstream proxy ${via.label} answered CONNECT ${authority} with something that is not HTTP`,
    );
  const code = Number(status[1]);
  if (code < 200 || code > 299) {
    // The reason phrase comes from the proxy: keep it short and printable in our one-line message.
    const reason = (status[2] ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 80);
    throw new MitmError('upstream_proxy_failed', `upstream proxy ${via.label} refused CONNECT ${authority}: ${code} ${reason}`.trimEnd());
  }
}

/** TCP to `endpoint`, or TLS verified with `tls` (an https:// proxy); resolves once connected. */
function connectTo(endpoint: Target, tls: SecureContext | undefined, adopt: (socket: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = tls !== undefined;
    const socket = secure
      ? tlsConnect({
          host: endpoint.host,
          port: endpoint.port,
          servername: isIP(endpoint.host) === 0 ? endpoint.host : '',
          secureContext: tls,
          // The proxy's certificate is checked like an origin's: it will see our credentials.
          rejectUnauthorized: true,
          ALPNProtocols: ['http/1.1'],
        })
      : tcpConnect({ host: endpoint.host, port: endpoint.port });
    adopt(socket);
    socket.once('error', reject);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Runs `open` under a deadline and an abort signal; whatever socket it was building is destroyed when either fires. */
function bounded(
  options: DialOptions,
  onTimeout: () => MitmError,
  open: (adopt: (socket: Socket) => void) => Promise<Socket>,
): Promise<Socket> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    let current: Socket | undefined;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: unknown): void => {
      current?.destroy();
      if (finish()) reject(error);
    };
    const onAbort = (): void => fail(new Error('the dial was abandoned'));
    // Cleared however the dial ends; unref'd besides, so that a dial nobody can abandon (no
    // signal) never holds the process open on its own: the socket it waits on does that.
    const timer = setTimeout(() => fail(onTimeout()), options.timeoutMs).unref();
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    open((socket) => {
      current = socket;
    }).then((socket) => {
      if (!finish()) {
        socket.destroy();
        return;
      }
      noteDial(socket, start);
      resolve(socket);
    }, fail);
  });
}

/** Why a connection to the upstream proxy failed, in a few words. */
function proxyReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve its host name (${code})`;
  if (code === 'ECONNRESET') return 'it reset the connection';
  return error instanceof Error ? error.message : String(error);
}

/** The system resolver's answer for `host`; node:dns/promises is loaded on the first name we resolve ourselves. */
async function systemLookup(host: string): Promise<{ address: string }> {
  return (await import('node:dns/promises')).lookup(host);
}

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isMitmError, MitmError } from '../errors.js';
import type { FlowClient } from '../flow/flow.js';
import { writeRawError } from '../exchange/error-response.js';
import { interceptTls } from '../tls/intercept-tls.js';
import type { ProxyRuntime } from './runtime.js';
import { formatAuthority, LANDING_HOST, parseAuthority, type Target } from '../net/target.js';
import { originTarget } from '../origin/origin-target.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
// First byte of a TLS record carrying a handshake message (RFC 8446 §5.1, content type 22).
const TLS_HANDSHAKE = 0x16;
// A client that opens a tunnel and then stays silent, or stalls mid-handshake, is dropped.
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** How a client asked for a tunnel, and so how it hears the outcome: HTTP CONNECT or SOCKS5 CONNECT. */
export interface TunnelReply {
  /** Tells the client the tunnel is open (`200 Connection Established`, a SOCKS5 success reply). */
  established(socket: Socket): void;
  /** Tells the client why there is no tunnel (an HTTP error response, a SOCKS5 failure reply) and closes. */
  refuse(socket: Socket, error: MitmError): void;
}

const HTTP_CONNECT_REPLY: TunnelReply = {
  established: (socket) => socket.write(ESTABLISHED),
  refuse: (socket, error) => writeRawError(socket, error),
};

/** A `proxy_auth_required` error for a request or CONNECT without valid credentials. */
export function proxyAuthRequired(what: string): MitmError {
  return new MitmError(
    'proxy_auth_required',
    `proxy authentication required for this ${what}: send a valid user name and password (Basic)`,
  );
}

/**
 * Handles `CONNECT host:port`: checks the client's proxy credentials when `--proxy-auth` is set,
 * then opens the tunnel (see `openTunnel`). Either way the requests that follow are forwarded to
 * the CONNECT target, never to what their Host header names.
 */
export function handleConnect(rt: ProxyRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const raw = socket as Socket;
  const client: FlowClient = { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 };
  raw.on('error', () => raw.destroy());
  let target: Target;
  try {
    target = parseAuthority(req.url ?? '');
    if (rt.isSelf(target)) throw new MitmError('loop', `CONNECT ${formatAuthority(target)} targets this proxy itself`);
  } catch (error) {
    const failure = isMitmError(error) ? error : new MitmError('bad_request', String(error));
    rt.emit('client-issue', { host: undefined, client, code: 'bad_request', message: failure.message });
    writeRawError(raw, failure);
    return;
  }
  if (!rt.auth) {
    openTunnel(rt, raw, head, target, client, HTTP_CONNECT_REPLY);
    return;
  }
  rt.auth.checkHeader(req.headers['proxy-authorization']).then(
    (user) => {
      if (user === undefined) writeRawError(raw, proxyAuthRequired('CONNECT'));
      else openTunnel(rt, raw, head, target, { ...client, user }, HTTP_CONNECT_REPLY);
    },
    () => raw.destroy(),
  );
}

/**
 * Everything after the target is known, shared by HTTP CONNECT and SOCKS5: onConnect hooks and
 * the host policy decide. A tunnel pipes the bytes untouched; an interception answers success and
 * looks at the first bytes: a TLS ClientHello is terminated with a minted leaf (TLS session #1),
 * anything else is parsed as plain HTTP.
 */
export function openTunnel(rt: ProxyRuntime, raw: Socket, head: Buffer, target: Target, client: FlowClient, reply: TunnelReply): void {
  decide(rt, target, client).then(
    (decision) => {
      if (decision.action === 'reject') {
        reply.refuse(raw, new MitmError('connect_rejected', `CONNECT ${formatAuthority(target)} was rejected by ${decision.reason}`));
      } else if (decision.action === 'tunnel') {
        tunnel(rt, raw, head, target, client, decision.reason, reply);
      } else {
        intercept(rt, raw, head, target, client, reply);
      }
    },
    (error: unknown) => reply.refuse(raw, isMitmError(error) ? error : new MitmError('hook_failed', String(error))),
  );
}

/** onConnect hooks first (the first verdict wins), then clients known to refuse our certificate, then the globs. */
async function decide(
  rt: ProxyRuntime,
  target: Target,
  client: FlowClient,
): Promise<{ action: 'intercept' | 'tunnel' | 'reject'; reason: string }> {
  // The landing page (certificate download) is answered by the proxy itself, whatever the rules.
  if (target.host === LANDING_HOST) return { action: 'intercept', reason: 'the landing page' };
  if (rt.hooks.has('onConnect')) {
    const decided = await rt.hooks.connect({ host: target.host, port: target.port, client });
    if (decided) return { action: decided.verdict, reason: `the onConnect hook "${decided.hook}"` };
  }
  const refused = rt.pinned?.reasonFor(client.address, target);
  if (refused !== undefined) return { action: 'tunnel', reason: `--auto-passthrough (the client rejected our certificate: ${refused})` };
  return rt.decide(target.host);
}

/**
 * An intercepted tunnel. When no onRequest hook could answer or re-target its requests, the
 * origin is dialled first and the CONNECT answered only once that TCP connection is up (a 502/504
 * naming the failure otherwise), so a client that reads 200 as "connected" is told the truth; the
 * connection then carries TLS session #2 (intercept-tls.ts). With hooks, a hook may answer for a
 * host that does not even exist: success is answered at once, and the origin dialled on demand.
 */
function intercept(rt: ProxyRuntime, raw: Socket, head: Buffer, target: Target, client: FlowClient, reply: TunnelReply): void {
  if (!dialsFirst(rt, target)) {
    answer(rt, raw, head, target, client, reply, undefined);
    return;
  }
  // A client that gives up before the origin answers takes the half-open dial with it; so does the
  // proxy's close(), which destroys every client socket.
  const abandoned = new AbortController();
  const abandon = (): void => abandoned.abort();
  raw.once('close', abandon);
  rt.dialer.dial(target, { timeoutMs: rt.config.upstreamTimeout, signal: abandoned.signal }).then(
    (origin) => {
      raw.off('close', abandon);
      rt.track(origin);
      // Whoever holds it later (the TLS handshake, the pools) listens too; until then an origin
      // that resets the idle connection must not throw.
      origin.on('error', () => origin.destroy());
      answer(rt, raw, head, target, client, reply, origin);
    },
    (error: unknown) => {
      raw.off('close', abandon);
      if (abandoned.signal.aborted) return;
      const failure = isMitmError(error) ? error : new MitmError('upstream_reset', String(error));
      reply.refuse(raw, failure);
      rt.emit('tunnel', {
        host: target.host,
        port: target.port,
        client,
        reason: 'intercept',
        error: { code: failure.code, message: failure.message },
      });
    },
  );
}

/**
 * True when the CONNECT waits for the origin's TCP connection: not while onRequest hooks are
 * installed, not for the landing page or the proxy itself, and not when an HTTP/2 session to the
 * origin is open already (it proves the origin reachable, and will carry the requests).
 */
function dialsFirst(rt: ProxyRuntime, target: Target): boolean {
  if (rt.hooks.has('onRequest') || target.host === LANDING_HOST || rt.isSelf(target)) return false;
  return !rt.exchangeDeps.upstream.hasSession(originTarget(target, true));
}

/**
 * Answers success, then terminates TLS when the client speaks it (`origin`, when dialled, carries
 * TLS session #2), else parses plain HTTP (and closes `origin`: see below).
 */
function answer(
  rt: ProxyRuntime,
  raw: Socket,
  head: Buffer,
  target: Target,
  client: FlowClient,
  reply: TunnelReply,
  origin: Socket | undefined,
): void {
  reply.established(raw);
  // A client that leaves before saying anything leaves no use for the origin's connection.
  const drop = (): void => {
    origin?.destroy();
  };
  raw.once('close', drop);
  if (head.length > 0) raw.unshift(head);
  raw.setTimeout(HANDSHAKE_TIMEOUT_MS, () => raw.destroy());
  // The listener allows half-open connections: a client that ends its side before a single byte
  // would otherwise hold this socket until the timeout.
  const hangUp = (): void => {
    raw.destroy();
  };
  raw.once('end', hangUp);
  raw.once('data', (first: Buffer) => {
    raw.off('end', hangUp);
    raw.off('close', drop);
    raw.pause();
    raw.unshift(first);
    if (first[0] === TLS_HANDSHAKE) {
      interceptTls(rt, raw, target, client, first, origin);
    } else {
      // Plain HTTP goes through the plain-HTTP pool, which dials per request (and, behind an
      // http(s) upstream proxy, sends absolute-form requests to that proxy, not through a tunnel):
      // the connection has told its truth and is closed.
      origin?.destroy();
      raw.setTimeout(0);
      rt.serveHttp(raw, { target, secure: false, servername: '', client });
      raw.resume();
    }
  });
  // The listener pauses a socket to peek at its first byte, which a new 'data' listener does not undo.
  raw.resume();
}

/** Pass-through: a raw byte pipe to the origin (or through the upstream proxy); the client sees the origin's own certificate. */
function tunnel(rt: ProxyRuntime, raw: Socket, head: Buffer, target: Target, client: FlowClient, reason: string, reply: TunnelReply): void {
  const report = (error: MitmError | undefined): void => {
    rt.emit('tunnel', {
      host: target.host,
      port: target.port,
      client,
      reason,
      error: error && { code: error.code, message: error.message },
    });
  };
  // A client that gives up before the origin answers takes the half-open dial with it.
  const abandoned = new AbortController();
  const abandon = (): void => abandoned.abort();
  raw.once('close', abandon);
  rt.dialer.dial(target, { timeoutMs: rt.config.upstreamTimeout, signal: abandoned.signal }).then(
    (upstream) => {
      raw.off('close', abandon);
      rt.track(upstream);
      reply.established(raw);
      if (head.length > 0) upstream.write(head);
      splice(raw, upstream);
      report(undefined);
    },
    (error: unknown) => {
      raw.off('close', abandon);
      if (abandoned.signal.aborted) return;
      const failure = isMitmError(error) ? error : new MitmError('upstream_reset', String(error));
      reply.refuse(raw, failure);
      report(failure);
    },
  );
}

/**
 * Pipes two sockets into each other. An error on either side tears down both; an orderly close on
 * one side ends the other after it has flushed what it still holds.
 */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const teardown = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', teardown);
  b.on('error', teardown);
  a.once('close', () => b.end());
  b.once('close', () => a.end());
}

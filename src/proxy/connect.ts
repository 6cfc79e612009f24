import type { IncomingMessage } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isMitmError, MitmError } from '../errors.js';
import { writeRawError } from './error-response.js';
import type { ProxyRuntime } from './runtime.js';
import { formatAuthority, parseAuthority, type Target } from './target.js';
import { terminateClientTls } from './client-tls.js';
import { classifyUpstreamError } from './upstream-error.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
// First byte of a TLS record carrying a handshake message (RFC 8446 §5.1, content type 22).
const TLS_HANDSHAKE = 0x16;
// A client that opens a tunnel and then stays silent, or stalls mid-handshake, is dropped.
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Handles `CONNECT host:port`: tunnels the bytes untouched when the host policy says so, else
 * answers 200 and looks at the first bytes: a TLS ClientHello is terminated with a minted leaf
 * (TLS session #1), anything else is parsed as plain HTTP. Either way the requests that follow
 * are forwarded to the CONNECT target, never to what their Host header names.
 */
export function handleConnect(rt: ProxyRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const raw = socket as Socket;
  const client = { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 };
  raw.on('error', () => raw.destroy());
  let target: Target;
  try {
    target = parseAuthority(req.url ?? '');
    if (rt.isSelf(target)) throw new MitmError('proxy_loop', `CONNECT ${formatAuthority(target)} targets this proxy itself`);
  } catch (error) {
    const failure = isMitmError(error) ? error : new MitmError('bad_request', String(error));
    rt.emit('client-issue', { host: undefined, client, code: 'bad_request', message: failure.message });
    writeRawError(raw, failure);
    return;
  }
  decide(rt, target, client).then(
    (decision) => {
      if (decision.action === 'reject') {
        writeRawError(raw, new MitmError('connect_rejected', `CONNECT ${formatAuthority(target)} was rejected by ${decision.reason}`));
      } else if (decision.action === 'tunnel') {
        tunnel(rt, raw, head, target, client, decision.reason);
      } else {
        intercept(rt, raw, head, target, client);
      }
    },
    (error: unknown) => writeRawError(raw, isMitmError(error) ? error : new MitmError('hook_failed', String(error))),
  );
}

/** onConnect hooks first (the first verdict wins), then the --passthrough / --intercept globs. */
async function decide(
  rt: ProxyRuntime,
  target: Target,
  client: { address: string; port: number },
): Promise<{ action: 'intercept' | 'tunnel' | 'reject'; reason: string }> {
  if (rt.hooks.has('onConnect')) {
    const decided = await rt.hooks.connect({ host: target.host, port: target.port, client });
    if (decided) return { action: decided.verdict, reason: `the onConnect hook "${decided.hook}"` };
  }
  return rt.decide(target.host);
}

/** Answers 200, then terminates TLS when the client speaks it, else parses plain HTTP. */
function intercept(rt: ProxyRuntime, raw: Socket, head: Buffer, target: Target, client: { address: string; port: number }): void {
  raw.write(ESTABLISHED);
  if (head.length > 0) raw.unshift(head);
  raw.setTimeout(HANDSHAKE_TIMEOUT_MS, () => raw.destroy());
  raw.once('data', (first: Buffer) => {
    raw.pause();
    raw.unshift(first);
    if (first[0] === TLS_HANDSHAKE) {
      terminate(rt, raw, target, client);
    } else {
      raw.setTimeout(0);
      rt.serveHttp(raw, { target, secure: false, servername: '', client });
      raw.resume();
    }
  });
}

function terminate(rt: ProxyRuntime, raw: Socket, target: Target, client: { address: string; port: number }): void {
  terminateClientTls(raw, target.host, rt.certs).then(
    ({ tlsSocket, servername }) => {
      raw.setTimeout(0);
      rt.track(tlsSocket);
      rt.serveHttp(tlsSocket, { target, secure: true, servername, client });
    },
    (error: unknown) => {
      raw.destroy();
      const message = error instanceof Error ? error.message : String(error);
      rt.emit('client-issue', { host: target.host, client, code: 'client_tls', message });
    },
  );
}

/** Pass-through: a raw TCP pipe to the origin; the client sees the origin's own certificate. */
function tunnel(
  rt: ProxyRuntime,
  raw: Socket,
  head: Buffer,
  target: Target,
  client: { address: string; port: number },
  reason: string,
): void {
  const authority = formatAuthority(target);
  const upstream = tcpConnect({ host: target.host, port: target.port });
  rt.track(upstream);
  const timer = setTimeout(() => {
    upstream.destroy(new MitmError('upstream_timeout', `connecting to ${authority} timed out after ${rt.config.upstreamTimeout} ms`));
  }, rt.config.upstreamTimeout);
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
  const abandon = (): void => {
    upstream.destroy();
  };
  raw.once('close', abandon);
  upstream.once('connect', () => {
    clearTimeout(timer);
    upstream.off('error', refuse);
    raw.off('close', abandon);
    raw.write(ESTABLISHED);
    if (head.length > 0) upstream.write(head);
    splice(raw, upstream);
    report(undefined);
  });
  const refuse = (error: Error): void => {
    clearTimeout(timer);
    const failure = classifyUpstreamError(error, authority);
    writeRawError(raw, failure);
    report(failure);
  };
  upstream.once('error', refuse);
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

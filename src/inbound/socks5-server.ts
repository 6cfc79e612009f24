// SOCKS5 on the proxy port (RFC 1928, CONNECT only), with RFC 1929 username/password when
// --proxy-auth is set. Once the target is known, the connection is treated exactly like an HTTP
// CONNECT tunnel (connect.ts): same hooks, policy, interception and pass-through.
import type { Socket } from 'node:net';
import type { MitmError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { FlowClient } from '../flow/flow.js';
import { openTunnel, type TunnelReply } from './connect.js';
import { HandshakeReader } from '../net/handshake-reader.js';
import type { ProxyRuntime } from './runtime.js';
import {
  ATYP,
  COMMAND_CONNECT,
  encodeReply,
  METHOD,
  PASSWORD_AUTH_VERSION,
  readAddress,
  REPLY,
  SOCKS_VERSION,
} from '../net/socks5-wire.js';
import { normalizeHost, type Target } from '../net/target.js';

// Greeting, authentication and request must all arrive within this; then the tunnel's own rules apply.
const NEGOTIATION_TIMEOUT_MS = 30_000;

// How our failures read as SOCKS5 reply codes (RFC 1928 §6).
const REPLY_FOR: Partial<Record<ErrorCode, number>> = {
  connect_rejected: REPLY.notAllowed,
  loop: REPLY.notAllowed,
  host_invalid: REPLY.addressNotSupported,
  upstream_refused: REPLY.refused,
  upstream_dns: REPLY.hostUnreachable,
  upstream_unreachable: REPLY.hostUnreachable,
  upstream_timeout: REPLY.hostUnreachable,
  upstream_reset: REPLY.hostUnreachable,
};

const SOCKS_REPLY: TunnelReply = {
  established: (socket) => socket.write(encodeReply(REPLY.succeeded)),
  // resume(): read on to the client's FIN, or the half-closed socket lingers (see serveSocks5).
  refuse: (socket: Socket, error: MitmError) => socket.end(encodeReply(REPLY_FOR[error.code] ?? REPLY.generalFailure)).resume(),
};

/** Serves one SOCKS5 connection: negotiates, then opens the tunnel like an HTTP CONNECT would. */
export function serveSocks5(rt: ProxyRuntime, socket: Socket): void {
  const client: FlowClient = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  socket.on('error', () => socket.destroy());
  socket.setTimeout(NEGOTIATION_TIMEOUT_MS, () => socket.destroy());
  const reader = new HandshakeReader(socket);
  negotiate(rt, socket, reader).then(
    (outcome) => {
      reader.release();
      // Refused and answered with end(): read on to the client's FIN (discarding anything else),
      // or the half-closed socket and its fd linger until the proxy closes; the timeout stays.
      if (outcome === undefined) {
        socket.resume();
        return;
      }
      socket.setTimeout(0);
      const user = outcome.user === undefined ? {} : { user: outcome.user };
      openTunnel(rt, socket, Buffer.alloc(0), outcome.target, { ...client, ...user }, SOCKS_REPLY);
    },
    (error: unknown) => {
      reader.release();
      socket.destroy();
      const message = `malformed SOCKS5 handshake (${error instanceof Error ? error.message : String(error)})`;
      rt.emit('client-issue', { host: undefined, client, code: 'bad_request', message });
    },
  );
}

/** Greeting, authentication and CONNECT request; undefined when the client was refused (already answered). */
async function negotiate(
  rt: ProxyRuntime,
  socket: Socket,
  reader: HandshakeReader,
): Promise<{ target: Target; user: string | undefined } | undefined> {
  const [version, count = 0] = await reader.read(2);
  if (version !== SOCKS_VERSION) throw new Error(`version ${String(version)}`);
  const methods = [...(await reader.read(count))];
  const wanted = rt.auth ? METHOD.password : METHOD.none;
  if (!methods.includes(wanted)) {
    // RFC 1928 §3: "the client MUST close the connection"; we do it for clients that do not.
    socket.end(Buffer.of(SOCKS_VERSION, METHOD.noneAcceptable));
    return undefined;
  }
  socket.write(Buffer.of(SOCKS_VERSION, wanted));
  let user: string | undefined;
  if (rt.auth) {
    const [authVersion, userLength = 0] = await reader.read(2);
    if (authVersion !== PASSWORD_AUTH_VERSION) throw new Error(`username/password version ${String(authVersion)}`);
    const name = (await reader.read(userLength)).toString('utf8');
    const [passwordLength = 0] = await reader.read(1);
    const password = (await reader.read(passwordLength)).toString('utf8');
    if (!(await rt.auth.check(name, password))) {
      // RFC 1929 §2: a non-zero status, then the server closes the connection.
      socket.end(Buffer.of(PASSWORD_AUTH_VERSION, 0x01));
      return undefined;
    }
    socket.write(Buffer.of(PASSWORD_AUTH_VERSION, 0x00));
    user = name;
  }
  const [requestVersion, command] = await reader.read(3);
  if (requestVersion !== SOCKS_VERSION) throw new Error(`request version ${String(requestVersion)}`);
  const { host, port, atyp } = await readAddress(reader);
  if (command !== COMMAND_CONNECT) {
    socket.end(encodeReply(REPLY.commandNotSupported));
    return undefined;
  }
  if (atyp !== ATYP.ipv4 && atyp !== ATYP.ipv6 && atyp !== ATYP.domain) {
    socket.end(encodeReply(REPLY.addressNotSupported));
    return undefined;
  }
  let target: Target;
  try {
    target = { host: normalizeHost(host), port };
  } catch {
    socket.end(encodeReply(REPLY.addressNotSupported));
    return undefined;
  }
  if (port === 0 || rt.isSelf(target)) {
    socket.end(encodeReply(REPLY.notAllowed));
    return undefined;
  }
  return { target, user };
}

// The reverse listener (`--mode reverse:URL@PORT`): the proxy is the server. Every request it
// receives goes to one fixed origin, with that origin's Host unless --keep-host, through the same
// hooks, recording and error answers as every other. A client speaking TLS gets a leaf for the name
// it asked for (SNI), or for the address it connected to when it sent none.
import type { Socket } from 'node:net';
import type { ReverseOrigin } from '../config/modes.js';
import type { FlowClient } from '../flow/flow.js';
import { normalizeHost } from '../net/target.js';
import { peekClientHello } from '../tls/client-hello.js';
import { terminateClientTls } from '../tls/client-tls.js';
import { caFileShown } from '../tls/intercept-tls.js';
import { describeHandshakeFailure } from '../tls/pinned-clients.js';
import type { ProxyRuntime, TunnelSession } from './runtime.js';

// First byte of a TLS record carrying a handshake message (RFC 8446 §5.1, content type 22).
const TLS_HANDSHAKE = 0x16;

/** Where a reverse listener sends everything, and whether the client's Host goes along. */
export interface ReverseMode {
  readonly origin: ReverseOrigin;
  readonly keepHost: boolean;
}

/** Serves one connection accepted by a reverse listener, its first bytes already waiting (paused). */
export function serveReverse(rt: ProxyRuntime, mode: ReverseMode, socket: Socket, first: Buffer): void {
  const client: FlowClient = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, mode: 'reverse' };
  const session: TunnelSession = {
    target: { host: mode.origin.host, port: mode.origin.port },
    secure: mode.origin.secure,
    servername: '',
    client,
    rewriteHost: !mode.keepHost,
  };
  if (first[0] !== TLS_HANDSHAKE) {
    rt.serveHttp(socket, session);
    return;
  }
  terminateClientTls(socket, ownName(socket), rt.certs, peekClientHello(socket)).then(
    ({ tlsSocket, facts }) => {
      rt.track(tlsSocket);
      rt.serveHttp(tlsSocket, { ...session, tls: facts });
    },
    (error: unknown) => {
      socket.destroy();
      rt.emit('client-issue', {
        host: undefined,
        client,
        code: 'client_tls',
        message: describeHandshakeFailure(error, caFileShown(rt.ca)),
      });
    },
  );
}

// The name a client without SNI reached us by: the listener address it connected to.
function ownName(socket: Socket): string {
  const address = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return normalizeHost(address);
}

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { CertCache } from '../ca/cert-cache.js';
import type { ClientTlsFacts } from '../flow/tls-facts.js';
import { TLS_BUFFERING } from '../net/buffers.js';
import { noteCarrier } from '../net/connection-reset.js';
import type { ClientHello } from './client-hello.js';

const CLOSED_DURING_HANDSHAKE = 'the client closed the connection during the TLS handshake';

/**
 * TLS session #1: wraps the client's own socket in a server-side TLSSocket, with no extra
 * loopback hop and no per-host server. The certificate is chosen by SNI; `host` (the CONNECT
 * target) covers clients that send no SNI, such as those connecting to an IP address. `hello` is
 * the client's ClientHello being peeked at (client-hello.ts), for the ALPN protocols it offers.
 * Resolves once the handshake is done, with the SNI name the client asked for ('' when none) and
 * the connection's TLS facts; the socket's `alpnProtocol` says whether the client chose h2 or http/1.1.
 */
export async function terminateClientTls(
  socket: Socket,
  host: string,
  certs: CertCache,
  hello: Promise<ClientHello | undefined>,
): Promise<{ tlsSocket: TLSSocket; servername: string; facts: ClientTlsFacts }> {
  const [fallback, offered] = await Promise.all([certs.get(host), hello]);
  // A client that ended its side before the handshake could even start (ClientHello cut short,
  // then FIN, while the leaf was minted) can never finish it.
  if (socket.readableEnded || socket.destroyed) throw new Error(CLOSED_DURING_HANDSHAKE);
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: fallback,
    SNICallback: (name, done) => {
      certs.get(name).then(
        (context) => done(null, context),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    },
    // h2 first: the server's order decides, so every client that offers h2 gets it (h2-server.ts);
    // clients that offer neither get http/1.1 as before ALPN existed.
    ALPNProtocols: ['h2', 'http/1.1'],
    ...TLS_BUFFERING,
  });
  noteCarrier(tlsSocket, socket);
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      tlsSocket.destroy();
      reject(error);
    };
    const onClose = (): void => reject(new Error(CLOSED_DURING_HANDSHAKE));
    // The client's socket allows half-open connections (listener.ts), so a client that ends its
    // side mid-handshake would otherwise hold this one until the handshake timeout. Its FIN is
    // seen by the TLS socket when it comes later, and by the wrapped socket when it came with the
    // first bytes: that socket read it before it was wrapped, and reports it once the TLS socket
    // has taken the bytes it still held (the TLS socket never sees that end).
    const onEnd = (): void => {
      tlsSocket.destroy();
      onClose();
    };
    tlsSocket.once('error', onError);
    tlsSocket.once('close', onClose);
    tlsSocket.once('end', onEnd);
    socket.once('end', onEnd);
    tlsSocket.once('secure', () => {
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      tlsSocket.off('end', onEnd);
      socket.off('end', onEnd);
      // What tls.Server does before 'secureConnection': an http2 session set up on a socket still
      // marked as connecting waits for a 'secureConnect' that a server-side socket never emits.
      // No public API clears it: a never-listening tls.Server fed this socket would, but it has one
      // default certificate for clients that send no SNI, where we need the CONNECT host's.
      (tlsSocket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      const sni = (tlsSocket as TLSSocket & { servername?: string | false }).servername;
      const servername = typeof sni === 'string' ? sni : '';
      resolve({ tlsSocket, servername, facts: clientTlsFacts(tlsSocket, servername, offered) });
    });
  });
}

/** What the client's handshake negotiated, read once for the connection and shared by its flows. */
function clientTlsFacts(socket: TLSSocket, sni: string, hello: ClientHello | undefined): ClientTlsFacts {
  const cipher = socket.getCipher() as ReturnType<TLSSocket['getCipher']> | undefined;
  return {
    sni,
    alpnOffered: hello?.alpn,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined,
    version: socket.getProtocol() ?? '',
    cipher: cipher?.standardName ?? cipher?.name ?? '',
  };
}

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { CertCache } from '../ca/cert-cache.js';

/**
 * TLS session #1: wraps the client's own socket in a server-side TLSSocket, with no extra
 * loopback hop and no per-host server. The certificate is chosen by SNI; `host` (the CONNECT
 * target) covers clients that send no SNI, such as those connecting to an IP address. Resolves
 * once the handshake is done, with the SNI name the client asked for ('' when none).
 */
export async function terminateClientTls(
  socket: Socket,
  host: string,
  certs: CertCache,
): Promise<{ tlsSocket: TLSSocket; servername: string }> {
  const fallback = await certs.get(host);
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: fallback,
    SNICallback: (name, done) => {
      certs.get(name).then(
        (context) => done(null, context),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    },
    // HTTP/2 towards clients comes with issue #4; offering only http/1.1 keeps h2 clients on h1.
    ALPNProtocols: ['http/1.1'],
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      tlsSocket.destroy();
      reject(error);
    };
    const onClose = (): void => reject(new Error('the client closed the connection during the TLS handshake'));
    tlsSocket.once('error', onError);
    tlsSocket.once('close', onClose);
    tlsSocket.once('secure', () => {
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      const sni = (tlsSocket as TLSSocket & { servername?: string | false }).servername;
      resolve({ tlsSocket, servername: typeof sni === 'string' ? sni : '' });
    });
  });
}

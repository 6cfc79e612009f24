import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { connect } from 'node:tls';
import { LANDING_HOST } from '../net/target.js';

// How long the probe may take: one CONNECT and one TLS handshake with a local proxy.
const PROBE_TIMEOUT_MS = 10_000;

/**
 * The base64 SHA-256 of the SubjectPublicKeyInfo of the certificates the proxy on `port` shows
 * its clients, for Chromium's --ignore-certificate-errors-spki-list. Every minted leaf shares one
 * key per process (ca/mint-leaf.ts), so one handshake (with the landing host, which no origin
 * backs) gives the hash of them all.
 */
export async function leafSpkiSha256(host: string, port: number, caPem: string): Promise<string> {
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const request = http.request({ host, port, method: 'CONNECT', path: `${LANDING_HOST}:443`, agent: false, signal });
  request.end();
  const [response, socket] = (await once(request, 'connect', { signal })) as [http.IncomingMessage, Socket];
  try {
    if (response.statusCode !== 200) throw new Error(`the proxy answered CONNECT with ${response.statusCode ?? 'no status'}`);
    // Verified against the proxy's own root: the key read is that of a leaf our CA signed.
    const secure = connect({ socket, servername: LANDING_HOST, ca: caPem });
    try {
      await once(secure, 'secureConnect', { signal });
      const certificate = secure.getPeerX509Certificate();
      if (certificate === undefined) throw new Error('the proxy showed no certificate');
      const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
      return createHash('sha256').update(spki).digest('base64');
    } finally {
      secure.destroy();
    }
  } finally {
    socket.destroy();
  }
}

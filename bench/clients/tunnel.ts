// What the bench's Node clients share: a CONNECT tunnel through the proxy, then TLS inside it
// with the certificate the proxy minted.
import { once } from 'node:events';
import { connect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * Opens `CONNECT target` on the proxy at 127.0.0.1:`proxyPort`, then a TLS session (ALPN
 * http/1.1) trusting `ca`; rejects on a refusal, a hang-up, or 30 s of silence.
 */
export async function tlsThroughProxy(proxyPort: number, target: string, ca: Buffer): Promise<TLSSocket> {
  const raw = connect(proxyPort, '127.0.0.1');
  raw.setTimeout(30_000, () => raw.destroy(new Error('timed out')));
  try {
    await once(raw, 'connect');
    raw.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = '';
    for await (const chunk of raw.iterator({ destroyOnReturn: false })) {
      head += (chunk as Buffer).toString('latin1');
      if (head.includes('\r\n\r\n')) break;
    }
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) throw new Error('proxy closed during CONNECT');
    if (head.length > end + 4) raw.unshift(Buffer.from(head.slice(end + 4), 'latin1'));
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT answered: ${head.split('\r\n')[0]}`);
    const servername = target.slice(0, target.lastIndexOf(':'));
    const tls = tlsConnect({ socket: raw, ca, servername, ALPNProtocols: ['http/1.1'] });
    await once(tls, 'secureConnect');
    raw.setTimeout(0);
    return tls;
  } catch (error) {
    raw.destroy();
    throw error;
  }
}

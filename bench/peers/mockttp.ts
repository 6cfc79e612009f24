// mockttp 4.6.5 as a pass-through proxy (HTTP/2 offered to clients that ask for it), trusting the
// origin's CA. recordTraffic is off, as its docs advise when lots of data goes through.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { announce, exitOnSignal, importPeer, peerArgs } from './peer-io.js';

/** The part of mockttp's API used here. */
interface Mockttp {
  generateCACertificate(options: { subject: { commonName: string } }): Promise<{ key: string; cert: string }>;
  getLocal(options: Record<string, unknown>): {
    readonly port: number;
    forAnyRequest(): { thenPassThrough(options: Record<string, unknown>): Promise<unknown> };
    start(port?: number): Promise<void>;
    stop(): Promise<void>;
  };
}

const { generateCACertificate, getLocal } = await importPeer<Mockttp>('mockttp');
const { originCa, state } = peerArgs();
const dir = join(state, 'mockttp');
const certPath = join(dir, 'ca.pem');
const keyPath = join(dir, 'ca-key.pem');
const existing = await readFile(certPath, 'utf8').catch(() => undefined);
if (existing === undefined) {
  const ca = await generateCACertificate({ subject: { commonName: 'mockttp bench CA' } });
  await mkdir(dir, { recursive: true });
  await writeFile(keyPath, ca.key, { mode: 0o600 });
  await writeFile(certPath, ca.cert);
}

const server = getLocal({ https: { certPath, keyPath }, http2: true, recordTraffic: false });
await server.forAnyRequest().thenPassThrough({ additionalTrustedCAs: [{ certPath: originCa }] });
await server.start(0);
exitOnSignal(() => server.stop());
announce(server.port, certPath);

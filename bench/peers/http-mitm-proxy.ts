// http-mitm-proxy 1.1.0 with keep-alive agents, trusting the origin's CA. Minted leaves are
// cached on disk in sslCaDir, so each start deletes them (keeping the CA) for cold "new host" figures.
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { announce, exitOnSignal, importPeer, peerArgs } from './peer-io.js';

/** The part of http-mitm-proxy's API used here. */
interface HttpMitmProxy {
  Proxy: new () => {
    httpPort: number;
    onError(handler: (ctx: unknown, error?: Error) => void): unknown;
    listen(options: Record<string, unknown>, callback: (error?: Error | null) => void): unknown;
    close(): unknown;
  };
}

const { Proxy: MitmProxy } = await importPeer<HttpMitmProxy>('http-mitm-proxy');
const { originCa, state } = peerArgs();
const sslCaDir = join(state, 'http-mitm-proxy');
const keep = new Set(['ca.pem', 'ca.private.key', 'ca.public.key']);
for (const sub of ['certs', 'keys']) {
  const names = await readdir(join(sslCaDir, sub)).catch(() => []);
  await Promise.all(names.filter((name) => !keep.has(name)).map((name) => rm(join(sslCaDir, sub, name))));
}

const proxy = new MitmProxy();
proxy.onError((_ctx, error) => console.error(`http-mitm-proxy: ${error?.message ?? 'error'}`));
const httpsAgent = new Agent({ keepAlive: true, ca: readFileSync(originCa) });
await new Promise<void>((resolve, reject) => {
  proxy.listen({ host: '127.0.0.1', port: 0, sslCaDir, keepAlive: true, httpsAgent }, (error) => (error ? reject(error) : resolve()));
});
exitOnSignal(async () => proxy.close());
announce(proxy.httpPort, join(sslCaDir, 'certs', 'ca.pem'));

// First-request latency of a new host through an intercepted CONNECT: the CONNECT answered at once
// (before: the build of BASE, default the commit before the truthful CONNECT; hooks: today's build
// with a no-op onRequest hook, which answers at once and dials on demand) against the CONNECT
// answered once the origin's TCP connection is up (after), with TLS #2 then run over it.
//
//   node --import tsx bench/connect-latency.ts [--hosts=N] [--delays=0,20] [--base=COMMIT]
//
// Origin round trips are simulated by a local upstream proxy (every dial goes through it, in all
// three builds alike) that waits DELAY ms before answering CONNECT (the TCP handshake's round trip)
// and holds each chunk DELAY/2 ms in each direction. Every host name is new to the proxy (a leaf is
// minted, the origin is probed), all traffic stays on 127.0.0.1. Prints p50/p90 per build and
// the ratios against `before`.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';

interface Running {
  readonly port: number;
  readonly caPath: string;
  close(): Promise<void>;
}
type Start = (options: Record<string, unknown>) => Promise<{ port: number; close(): Promise<void> }>;

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '40' },
    delays: { type: 'string', default: '0,20' },
    base: { type: 'string', default: '2755377' },
  },
});
const HOSTS = Number(values.hosts);
const DELAYS = values.delays.split(',').map(Number);
const ROOT = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mitm-connect-bench-'));

/** An origin certificate for *.bench.test, signed by a throwaway CA. */
function makePki(): { ca: string; cert: string; key: string } {
  const path = (name: string): string => join(work, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=bench CA',
    '-keyout',
    path('ca-key.pem'),
    '-out',
    path('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=bench.test',
    '-keyout',
    path('key.pem'),
    '-out',
    path('o.csr'),
  );
  writeFileSync(path('o.ext'), 'subjectAltName=DNS:*.bench.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    path('o.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca-key.pem'),
    '-set_serial',
    '0x1234',
    '-days',
    '2',
    '-extfile',
    path('o.ext'),
    '-out',
    path('cert.pem'),
  );
  return { ca: path('ca.pem'), cert: readFileSync(path('cert.pem'), 'utf8'), key: readFileSync(path('key.pem'), 'utf8') };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** An upstream CONNECT proxy sending every tunnel to the origin, with `delay` ms of simulated round trip. */
async function delayingProxy(originPort: number, delay: number): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const later = (fn: () => void, ms: number): void => {
    if (ms <= 0) fn();
    else setTimeout(fn, ms);
  };
  const pipeDelayed = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => later(() => to.writable && to.write(chunk), delay / 2));
    from.on('end', () => later(() => to.end(), delay / 2));
    from.on('error', () => to.destroy());
    from.on('close', () => later(() => to.destroy(), delay / 2));
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', () => {
      client.pause();
      later(() => {
        const origin = netConnect(originPort, '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          pipeDelayed(client, origin);
          pipeDelayed(origin, client);
          client.resume();
        });
        sockets.add(origin);
        origin.once('close', () => sockets.delete(origin));
        origin.on('error', () => client.destroy());
      }, delay);
    });
  });
  return { port: await listen(server), server, sockets };
}

/** CONNECT host:443, TLS trusting the proxy's CA, one GET; ms from the CONNECT to the last body byte. */
async function firstRequest(proxyPort: number, ca: string, host: string): Promise<number> {
  const started = performance.now();
  const req = request({
    host: '127.0.0.1',
    port: proxyPort,
    method: 'CONNECT',
    path: `${host}:443`,
    headers: { host: `${host}:443` },
    agent: false,
  });
  req.end();
  const [res, socket] = (await once(req, 'connect')) as [{ statusCode?: number }, Socket];
  if (res.statusCode !== 200) throw new Error(`CONNECT ${host}: ${res.statusCode}`);
  const tls = tlsConnect({ socket, ca, servername: host, ALPNProtocols: ['http/1.1'] });
  await once(tls, 'secureConnect');
  tls.write(`GET /1k HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  let text = '';
  for await (const chunk of tls) text += (chunk as Buffer).toString('latin1');
  const elapsed = performance.now() - started;
  if (!text.startsWith('HTTP/1.1 200')) throw new Error(`GET ${host}: ${text.slice(0, 80)}`);
  return elapsed;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const pki = makePki();
  const body = Buffer.alloc(1024, 'x');
  const origin = createHttpsServer({ cert: pki.cert, key: pki.key }, (_req, res) =>
    res.writeHead(200, { 'content-length': body.length }).end(body),
  );
  const originPort = await listen(origin);
  // The build before the change, from git, next to this one (node_modules resolve from the worktree).
  const beforeDir = join(ROOT, 'bench/results/connect-before');
  rmSync(beforeDir, { recursive: true, force: true });
  mkdirSync(beforeDir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${values.base} src | tar -x -C "${beforeDir}"`]);
  const before = (await import(join(beforeDir, 'src/index.ts'))) as { startProxy: Start };
  const after = (await import(join(ROOT, 'src/index.ts'))) as { startProxy: Start };
  const noop = { name: 'no-op', onRequest: (): void => undefined };
  const builds: ReadonlyArray<{ name: string; start: Start; extra: Record<string, unknown> }> = [
    { name: 'before (200 at once, origin dialled alongside)', start: before.startProxy, extra: {} },
    { name: 'after (200 once the origin TCP is up)', start: after.startProxy, extra: {} },
    { name: 'after + onRequest hook (200 at once, dialled on demand)', start: after.startProxy, extra: { hooks: [noop] } },
  ];
  for (const delay of DELAYS) {
    const upstream = await delayingProxy(originPort, delay);
    const proxies: Running[] = [];
    for (const build of builds) {
      const dir = join(work, `ca-${delay}-${proxies.length}`);
      const proxy = await build.start({
        port: 0,
        ca: dir,
        upstreamCa: [pki.ca],
        upstreamProxy: `http://127.0.0.1:${upstream.port}`,
        keep: 0,
        ...build.extra,
      });
      proxies.push({ port: proxy.port, caPath: join(dir, 'ca.pem'), close: () => proxy.close() });
    }
    const cas = proxies.map((proxy) => readFileSync(proxy.caPath, 'utf8'));
    const times: number[][] = builds.map(() => []);
    // Warm-up (JIT, first mint), then rounds alternating the builds, each with a host new to it.
    for (const [b, proxy] of proxies.entries()) await firstRequest(proxy.port, cas[b] ?? '', `warm-${b}.bench.test`);
    for (let i = 0; i < HOSTS; i += 1) {
      for (const [b, proxy] of proxies.entries()) {
        times[b]?.push(await firstRequest(proxy.port, cas[b] ?? '', `h${i}-b${b}-d${delay}.bench.test`));
      }
    }
    const base = [...(times[0] ?? [])].sort((x, y) => x - y);
    console.log(`\nsimulated origin round trip ${delay} ms, ${HOSTS} new hosts per build (ms from CONNECT to last byte)`);
    for (const [b, build] of builds.entries()) {
      const sorted = [...(times[b] ?? [])].sort((x, y) => x - y);
      const p50 = percentile(sorted, 50);
      const p90 = percentile(sorted, 90);
      console.log(
        `  ${build.name.padEnd(58)} p50 ${p50.toFixed(1).padStart(6)}  p90 ${p90.toFixed(1).padStart(6)}  p50 ratio ${(p50 / percentile(base, 50)).toFixed(2)}`,
      );
    }
    await Promise.all(proxies.map((proxy) => proxy.close()));
    upstream.server.close();
    for (const socket of upstream.sockets) socket.destroy();
  }
  origin.close();
  origin.closeAllConnections();
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));

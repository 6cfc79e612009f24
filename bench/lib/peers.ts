// The proxies under test: how to start each one, pinned to the proxy core, and where its CA is.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, built } from './build.js';
import type { Route } from './curl.js';
import { PROXY_CPU, Proc } from './procs.js';
import type { WorkloadName } from './report.js';

/** A proxy process that is up and listening. */
export interface Running {
  readonly route: Route;
  readonly proc: Proc;
}

/** One proxy under test. */
export interface Peer {
  readonly name: string;
  /** Why it cannot run here, or undefined when it can. */
  readonly missing?: string;
  /** What the table should say about how it was configured. */
  readonly note?: string;
  /** The only workloads it runs (all when absent). */
  readonly only?: readonly WorkloadName[];
  start(originCa: string, state: string, profileDir?: string): Promise<Running>;
}

/** How a Node peer differs from the defaults. */
interface NodePeerOptions {
  readonly insecureIpHosts?: boolean;
  readonly resolvesNewHostNames?: boolean;
  readonly note?: string;
  readonly pkg?: string;
  readonly only?: readonly WorkloadName[];
  /** Its script under another build root (an older engine, build.ts buildBase), shown under `name`. */
  readonly base?: { readonly root: string; readonly name: string };
}

/** The Node proxies: each started by its script under bench/peers/ (transpiled, on bare node). */
function nodePeer(name: string, options: NodePeerOptions = {}): Peer {
  const installed = !options.pkg || existsSync(join(ROOT, 'node_modules', options.pkg, 'package.json'));
  const script = options.base ? join(options.base.root, 'bench', 'peers', `${name}.js`) : built(`bench/peers/${name}.ts`);
  const shown = options.base?.name ?? name;
  return {
    name: shown,
    ...(options.note ? { note: options.note } : {}),
    ...(options.only ? { only: options.only } : {}),
    ...(installed ? {} : { missing: `${options.pkg} is not installed (skipped; docs/performance.md says how to add it)` }),
    async start(originCa, state, profileDir) {
      const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
      const proc = new Proc('node', [...profile, script, '--origin-ca', originCa, '--state', state], PROXY_CPU);
      const ready = (await proc.nextJson(60_000)) as { port?: number; ca?: string };
      if (!ready.port || !ready.ca) throw new Error(`${shown}: unexpected ready line ${JSON.stringify(ready)}`);
      const ca = ready.ca.startsWith('/') ? ready.ca : join(process.cwd(), ready.ca);
      const route: Route = {
        name: shown,
        proxy: `http://127.0.0.1:${ready.port}`,
        ca,
        ...(options.insecureIpHosts ? { insecureIpHosts: true } : {}),
        ...(options.resolvesNewHostNames ? { resolvesNewHostNames: true } : {}),
      };
      return { route, proc };
    },
  };
}

/** mitmproxy's mitmdump, when installed: bodies streamed past 1 MiB (its default buffers them whole). */
function mitmdump(): Peer {
  const found = spawnSync('mitmdump', ['--version'], { stdio: 'ignore' }).status === 0;
  return {
    name: 'mitmdump',
    ...(found ? { note: 'stream_large_bodies=1m' } : { missing: 'mitmdump is not installed (skipped)' }),
    async start(originCa, state) {
      const confdir = join(state, 'mitmproxy');
      await mkdir(confdir, { recursive: true });
      const port = await freePort();
      const proc = new Proc(
        'mitmdump',
        [
          '--listen-host',
          '127.0.0.1',
          '--listen-port',
          String(port),
          '-q',
          '--set',
          `confdir=${confdir}`,
          '--set',
          `ssl_verify_upstream_trusted_ca=${originCa}`,
          '--set',
          'stream_large_bodies=1m',
        ],
        PROXY_CPU,
      );
      await waitForPort(port, 30_000);
      return { route: { name: 'mitmdump', proxy: `http://127.0.0.1:${port}`, ca: join(confdir, 'mitmproxy-ca-cert.pem') }, proc };
    },
  };
}

/**
 * Every proxy under test, in table order; with `base` (an older engine built by buildBase), that
 * engine right after mitm, as `mitm@COMMIT`.
 */
export function peers(base?: { readonly root: string; readonly commit: string }): Peer[] {
  return [
    nodePeer('mitm', { resolvesNewHostNames: true }),
    ...(base
      ? [
          nodePeer('mitm', {
            resolvesNewHostNames: true,
            note: `mitm's src/ at ${base.commit} (--base), with this tree's bench/peers/mitm.ts`,
            base: { root: base.root, name: `mitm@${base.commit}` },
          }),
        ]
      : []),
    nodePeer('mitm-unrecorded', {
      note: 'mitm with --keep 0 --record-body-limit 0, keep-alive and WebSocket only',
      only: ['keepAlive', 'wsMessages'],
    }),
    nodePeer('mitm-store', { note: 'mitm with --keep 0 --store FILE (every flow to SQLite), keep-alive only', only: ['keepAlive'] }),
    nodePeer('mitm-ui', {
      note: 'mitm with --ui and one live page (a Node client on the push channel, every flow), keep-alive only',
      only: ['keepAlive'],
    }),
    nodePeer('tls-relay', {
      note: 'the floor for a Node MITM proxy: CONNECT, TLS in piped to TLS out, no HTTP (bench/peers/tls-relay.ts)',
      only: ['keepAlive', 'download', 'slowReader', 'upload', 'wsMessages'],
    }),
    nodePeer('tcp-relay', {
      note: 'the hop alone: CONNECT, the tunnel piped to the origin over TCP, no TLS of its own (bench/peers/tcp-relay.ts)',
      only: ['wsMessages'],
    }),
    nodePeer('h2-relay', {
      note: 'the HTTP/2 floor: streams relayed with the core http2 API, no HTTP semantics (bench/peers/h2-relay.ts)',
      only: ['h2Streams'],
    }),
    nodePeer('http-mitm-proxy', { pkg: 'http-mitm-proxy', note: 'keepAlive, https.Agent({ keepAlive })' }),
    nodePeer('mockttp', { pkg: 'mockttp', insecureIpHosts: true, note: 'recordTraffic: false, http2: true' }),
    mitmdump(),
  ];
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.once('connect', () => socket.destroy());
    });
    if (up) return;
    await sleep(200);
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
}

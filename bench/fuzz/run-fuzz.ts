// The mutation fuzzer (issue #16): mutated seeds (bench/fuzz/seeds.ts) sent in batches to a proxy
// in a child process, whose only way out is a local sink (bench/fuzz/sink.ts). After every batch a
// normal HTTPS request must still succeed through the proxy within 5 s (else: a hang) and its RSS
// stay under a bound; a child that exits is a crash (the batch's inputs are saved and the proxy is
// restarted). Bounded by time and by batch count; all traffic stays on 127.0.0.1.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, request } from 'undici';
import { captureClientHello } from '../../test/helpers/client-hello.js';
import { createTestPki } from '../../test/helpers/pki.js';
import { startSoakOrigins } from '../soak/origins.js';
import type { OpenConnection, ProxySample } from '../soak/proxy-child.js';
import { mutate, Rng } from './mutate.js';
import { seeds as allSeeds, type Seed } from './seeds.js';
import { startSink } from './sink.js';

/** What one run does. */
export interface FuzzOptions {
  /** Time budget: no batch starts after it (a loop bound, not a wait). */
  readonly seconds: number;
  readonly seed?: number;
  /** Inputs in flight at once per batch (default 48). */
  readonly concurrency?: number;
  /** The proxy's RSS bound after each batch (default 512 MiB). */
  readonly rssLimitMiB?: number;
  /** Where crashing batches are saved (default bench/results/fuzz). */
  readonly crashDir?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /**
   * After the last batch, how long the proxy may take to end every client connection by itself
   * (its handshake and idle timeouts are 30 s); one still open then is a `leak` finding. 0 skips it.
   */
  readonly settleSeconds?: number;
  /** Only the seeds whose name this matches (default: all). */
  readonly only?: RegExp;
}

/** A crash, a hang or a memory bound passed, with the batch it followed. */
export interface FuzzFinding {
  readonly kind: 'crash' | 'hang' | 'memory' | 'leak';
  readonly batch: number;
  readonly detail: string;
  /** Files holding the batch's inputs (for crashes and hangs). */
  readonly saved: readonly string[];
}

/** The figures of one run. */
export interface FuzzReport {
  readonly seed: number;
  readonly seconds: number;
  readonly inputs: number;
  readonly batches: number;
  readonly findings: readonly FuzzFinding[];
  readonly peakRssMiB: number;
  readonly lastSample: ProxySample | undefined;
  /** The proxy at start, and once settled after the last batch (when settleSeconds > 0). */
  readonly baseline: ProxySample | undefined;
  readonly settled: ProxySample | undefined;
  /** How the proxy answered the inputs: first line class ('HTTP 400', 'SOCKS5', 'TLS', 'closed silently', 'timeout'). */
  readonly answers: Readonly<Record<string, number>>;
  readonly bySeed: Readonly<Record<string, number>>;
}

const INPUT_MS = 400;
const HEALTH_MS = 5_000;
const MAX_BATCHES = 1_000_000;

/** Runs the fuzzer for `options.seconds` and returns its figures. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const rng = new Rng(seed);
  const log = options.log ?? ((): void => undefined);
  const crashDir = options.crashDir ?? 'bench/results/fuzz';
  const concurrency = options.concurrency ?? 48;
  const rssLimit = options.rssLimitMiB ?? 512;
  const pki = await createTestPki();
  const origins = await startSoakOrigins(pki.origin);
  const sink = await startSink(origins.h1Port);
  const seedList = allSeeds(await captureClientHello('fuzz.test')).filter((s) => options.only?.test(s.name) ?? true);
  if (seedList.length === 0) throw new Error(`fuzz: no seed matches --only ${String(options.only)}`);
  const seedBytes = seedList.map((s) => s.bytes);
  const findings: FuzzFinding[] = [];
  const answers: Record<string, number> = {};
  const bySeed: Record<string, number> = {};
  // Which input each client port carried, to name the inputs whose connections outlive the settle.
  const sentFrom = new Map<number, SentInput>();
  let proxy = await startChild(sink.port);
  let inputs = 0;
  let batches = 0;
  let peakRssMiB = 0;
  let lastSample: ProxySample | undefined;
  let settled: ProxySample | undefined;
  const baseline = await sampleOf(proxy);
  const deadline = Date.now() + options.seconds * 1000;
  try {
    while (Date.now() < deadline && batches < MAX_BATCHES) {
      batches += 1;
      const batch = Array.from({ length: concurrency }, () => {
        const from = rng.pick(seedList);
        return {
          seed: from,
          bytes: rng.next() < 0.05 ? from.bytes : mutate(from.bytes, seedBytes, rng),
          split: rng.int(3),
          end: rng.next() < 0.7,
        };
      });
      const outcomes = await Promise.all(
        batch.map((input) => send(proxy, input.seed, input.bytes, input.split, input.end, (port) => sentFrom.set(port, input))),
      );
      for (const [i, outcome] of outcomes.entries()) {
        answers[outcome] = (answers[outcome] ?? 0) + 1;
        const name = batch[i]?.seed.name ?? '?';
        bySeed[name] = (bySeed[name] ?? 0) + 1;
      }
      inputs += batch.length;
      const save = (kind: string): string[] => {
        mkdirSync(crashDir, { recursive: true });
        return batch.map((input, i) => {
          const file = join(crashDir, `${kind}-${seed}-${batches}-${i}-${input.seed.channel.replace('/', '')}.bin`);
          writeFileSync(file, input.bytes);
          return file;
        });
      };
      if (proxy.exited !== undefined) {
        findings.push({ kind: 'crash', batch: batches, detail: `${proxy.exited}: ${proxy.stderr.slice(-2000)}`, saved: save('crash') });
        log(`batch ${batches}: CRASH (${proxy.exited})`);
        proxy = await startChild(sink.port);
        continue;
      }
      const health = await healthCheck(proxy);
      if (health !== undefined) {
        findings.push({ kind: proxy.exited === undefined ? 'hang' : 'crash', batch: batches, detail: health, saved: save('hang') });
        log(`batch ${batches}: HANG (${health})`);
        proxy.child.kill('SIGKILL');
        await proxy.exit;
        proxy = await startChild(sink.port);
        continue;
      }
      lastSample = await sampleOf(proxy);
      peakRssMiB = Math.max(peakRssMiB, lastSample.rssMiB);
      if (lastSample.rssMiB > rssLimit) {
        findings.push({ kind: 'memory', batch: batches, detail: `RSS ${lastSample.rssMiB.toFixed(0)} MiB > ${rssLimit} MiB`, saved: [] });
        log(`batch ${batches}: RSS ${lastSample.rssMiB.toFixed(0)} MiB over the bound`);
        proxy.child.kill('SIGKILL');
        await proxy.exit;
        proxy = await startChild(sink.port);
      }
      if (batches % 50 === 0)
        log(
          `${batches} batches, ${inputs} inputs, rss ${lastSample.rssMiB.toFixed(0)} MiB, fds ${lastSample.fds}, findings ${findings.length}`,
        );
    }
    if ((options.settleSeconds ?? 0) > 0 && proxy.exited === undefined) {
      settled = await settle(proxy, options.settleSeconds ?? 0);
      if (settled.connections > 0 || settled.fds > baseline.fds + 10) {
        const open = await openConnections(proxy);
        findings.push({
          kind: 'leak',
          batch: batches,
          detail: `after ${options.settleSeconds} s idle: ${settled.connections} client connections, ${settled.fds} fds (${baseline.fds} at start)\n${describeLeaks(open, sentFrom)}`,
          saved: saveLeaks(open, sentFrom, join(crashDir, `leak-${seed}`)),
        });
      }
    }
  } finally {
    await proxy.stop();
    await sink.close();
    await origins.close();
    await pki.cleanup();
  }
  return { seed, seconds: options.seconds, inputs, batches, findings, peakRssMiB, lastSample, baseline, settled, answers, bySeed };
}

/** One input as sent. */
interface SentInput {
  readonly seed: Seed;
  readonly bytes: Buffer;
  readonly split: number;
  readonly end: boolean;
}

async function openConnections(proxy: ProxyChild): Promise<OpenConnection[]> {
  const answered = once(proxy.child, 'message') as Promise<[{ open: OpenConnection[] }]>;
  proxy.child.send('open');
  const [{ open }] = await answered;
  return open;
}

/** The connections still open, counted by seed and by their state (peer's FIN read, written to, timeout). */
function describeLeaks(open: readonly OpenConnection[], sentFrom: ReadonlyMap<number, SentInput>): string {
  const counts = new Map<string, number>();
  for (const connection of open) {
    const input = sentFrom.get(connection.remotePort);
    const key = `${input?.seed.name ?? '?'} (${input?.end === true ? 'client ended' : 'client left open'}; FIN read ${connection.readableEnded}, flowing ${connection.flowing}, answered ${connection.bytesWritten > 0}, timeout ${connection.timeoutMs ?? 'none'})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `    ${count} × ${key}`)
    .join('\n');
}

/** Writes the inputs of up to 5 leaked connections per seed under `dir`; returns the files. */
function saveLeaks(open: readonly OpenConnection[], sentFrom: ReadonlyMap<number, SentInput>, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const perSeed = new Map<string, number>();
  const files: string[] = [];
  for (const connection of open) {
    const input = sentFrom.get(connection.remotePort);
    if (input === undefined) continue;
    const n = (perSeed.get(input.seed.name) ?? 0) + 1;
    perSeed.set(input.seed.name, n);
    if (n > 5) continue;
    const file = join(dir, `${input.seed.name.replace(/[^a-z0-9]+/gi, '-')}-${n}-split${input.split}-${input.end ? 'end' : 'open'}.bin`);
    writeFileSync(file, input.bytes);
    files.push(file);
  }
  return files;
}

/** The proxy child and what it said. */
interface ProxyChild {
  readonly child: ChildProcess;
  readonly port: number;
  readonly caPem: string;
  readonly exit: Promise<unknown>;
  exited: string | undefined;
  stderr: string;
  stop(): Promise<void>;
}

async function startChild(sinkPort: number): Promise<ProxyChild> {
  // Timeouts shorter than the defaults (60 s), so that the settle (40 s) can tell a connection the
  // proxy would still close by itself from one it never will; the tunnel handshake timeout is 30 s.
  const options = { upstreamProxy: `http://127.0.0.1:${sinkPort}`, keep: 50, headersTimeout: 10_000, idleTimeout: 10_000 };
  const child = fork(fileURLToPath(new URL('../soak/proxy-child.ts', import.meta.url)), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const state = { stderr: '', exited: undefined as string | undefined };
  child.stderr?.on('data', (chunk: Buffer) => {
    state.stderr = (state.stderr + chunk.toString()).slice(-8000);
  });
  const exit = once(child, 'exit').then(([code, signal]) => {
    state.exited = `exit ${String(code)} ${String(signal)}`;
  });
  const [ready] = (await once(child, 'message')) as [{ port: number; caPem: string }];
  const handle: ProxyChild = {
    child,
    port: ready.port,
    caPem: ready.caPem,
    exit,
    get exited() {
      return state.exited;
    },
    set exited(value) {
      state.exited = value;
    },
    get stderr() {
      return state.stderr;
    },
    set stderr(value) {
      state.stderr = value;
    },
    stop: async () => {
      if (state.exited !== undefined) return;
      child.send('close');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      await exit;
      clearTimeout(timer);
    },
  };
  return handle;
}

async function sampleOf(proxy: ProxyChild): Promise<ProxySample> {
  const answered = once(proxy.child, 'message') as Promise<[{ sample: ProxySample }]>;
  proxy.child.send('sample');
  const [{ sample }] = await answered;
  return sample;
}

/** Samples until the proxy has no client connections left, or `seconds` have passed (a bounded wait). */
async function settle(proxy: ProxyChild, seconds: number): Promise<ProxySample> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const sample = await sampleOf(proxy);
    if (sample.connections === 0 || Date.now() >= until) return sample;
    await new Promise((resolve) => setTimeout(resolve, 500).unref());
  }
}

/** undefined when a normal HTTPS request through the proxy succeeds within HEALTH_MS, else why not. */
async function healthCheck(proxy: ProxyChild): Promise<string | undefined> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxy.port}`, requestTls: { ca: proxy.caPem, servername: 'fuzz.test' } });
  const timeout = AbortSignal.timeout(HEALTH_MS);
  try {
    const answer = await request('https://fuzz.test/1k', { dispatcher: agent, signal: timeout });
    const body = await answer.body.arrayBuffer();
    return answer.statusCode === 200 && body.byteLength === 1024
      ? undefined
      : `health check: status ${answer.statusCode}, ${body.byteLength} bytes`;
  } catch (error) {
    return `health check failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await agent.destroy();
  }
}

/** Sends one input and classifies the first answer; the connection is gone within INPUT_MS. */
function send(
  proxy: ProxyChild,
  seed: Seed,
  bytes: Buffer,
  split: number,
  end: boolean,
  sentFrom: (localPort: number) => void,
): Promise<string> {
  return new Promise((resolve) => {
    let first: Buffer | undefined;
    let settled = false;
    const sockets: Socket[] = [];
    const finish = (outcome: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(first === undefined ? 'timeout' : classify(first)), INPUT_MS);
    const raw = connect(proxy.port, '127.0.0.1');
    sockets.push(raw);
    raw.on('error', () => undefined);
    raw.once('close', () => finish(first === undefined ? 'closed silently' : classify(first)));
    const write = (socket: Socket): void => {
      const parts = split === 0 ? [bytes] : [bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)];
      for (const part of parts) socket.write(part);
      if (end) socket.end();
    };
    raw.once('connect', () => sentFrom(raw.localPort ?? 0));
    if (seed.channel === 'raw') {
      raw.on('data', (chunk: Buffer) => {
        first ??= chunk;
      });
      raw.once('connect', () => write(raw));
      return;
    }
    // Inside an intercepted TLS session: CONNECT, then TLS with the seed's ALPN, then the bytes.
    raw.once('connect', () => raw.write('CONNECT fuzz.test:443 HTTP/1.1\r\nHost: fuzz.test:443\r\n\r\n'));
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n')) return;
      raw.off('data', onHead);
      if (!head.toString('latin1').startsWith('HTTP/1.1 200')) {
        first = head;
        finish(classify(head));
        return;
      }
      raw.pause();
      const tls = tlsConnect({
        socket: raw,
        ca: proxy.caPem,
        servername: 'fuzz.test',
        ALPNProtocols: [seed.channel === 'tls-h2' ? 'h2' : 'http/1.1'],
      });
      sockets.push(tls);
      tls.on('error', () => undefined);
      tls.on('data', (data: Buffer) => {
        first ??= data;
      });
      tls.once('close', () => finish(first === undefined ? 'closed silently' : classify(first)));
      tls.once('secureConnect', () => write(tls));
    };
    raw.on('data', onHead);
  });
}

function classify(bytes: Buffer): string {
  const text = bytes.toString('latin1', 0, 12);
  const status = /^HTTP\/1\.[01] (\d)\d\d/.exec(text);
  if (status) return `HTTP ${status[1]}xx`;
  if (bytes[0] === 0x05) return 'SOCKS5 reply';
  if (bytes.length >= 9 && bytes[3] === 0x04) return 'HTTP/2 frames';
  if (bytes[0] === 0x81 || bytes[0] === 0x82 || bytes[0] === 0x88) return 'WebSocket frames';
  return 'other bytes';
}

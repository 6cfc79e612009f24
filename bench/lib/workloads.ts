// The measured workloads. Each takes a target (a route, plus the proxy's pid when there is one)
// and returns a Cell: figures when every transfer checked out, an error otherwise.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newHost, newHostName } from './certs.js';
import { curl, median, verify, writeUrlConfig, type Route } from './curl.js';
import { memoryOf, mib, resetPeak, sampleRss } from './memory.js';

/** How much of each workload a run does (full or --quick). */
export interface Sizes {
  readonly keepAliveRequests: number;
  readonly newHosts: number;
  readonly downloadMiB: number;
  /** How long the slow client reads the download's body at 1 MiB/s before it hangs up. */
  readonly slowReaderSeconds: number;
  readonly uploadMiB: number;
  /** Rounds of the workloads measured side by side (keep-alive, download, upload); the median counts. */
  readonly rounds: number;
  readonly idleTunnels: number;
  readonly idleSettleMs: number;
  readonly h2Requests: number;
  readonly wsMessages: number;
}

/** What every workload needs: the origin's ports, a scratch folder, the sizes. */
export interface Bench {
  readonly tmp: string;
  readonly h1Port: number;
  readonly h2Port: number;
  readonly uploadFile: string;
  /** A quarter of `uploadFile`, for the warm-up. */
  readonly warmUploadFile: string;
  readonly sizes: Sizes;
}

/** A route, plus the pid of the proxy process behind it (none for direct). */
export interface Target {
  readonly route: Route;
  readonly pid?: number;
}

/** One workload's outcome on one route. */
export interface Cell {
  readonly ok: boolean;
  readonly values: Record<string, number>;
  readonly note?: string;
  readonly error?: string;
  /** A side-by-side workload's figure in each round, in order (the cell's value is their median). */
  readonly rounds?: readonly number[];
}

export const MiB = 2 ** 20;
const fail = (error: string): Cell => ({ ok: false, values: {}, error });

/** One 1 KiB GET to localhost, so its leaf is minted and the code paths are warm before measuring. */
export async function warmUp(route: Route, b: Bench): Promise<string | undefined> {
  const error = verify(await curl(route, ['--http1.1', '-o', '/dev/null', `https://localhost:${b.h1Port}/1k`], 30_000), {
    count: 1,
    down: 1024,
  });
  return error ? `warm-up: ${error}` : undefined;
}

/**
 * (1) Small keep-alive GETs: 1 KiB responses over 16 HTTP/1.1 connections (after a 64-request
 * warm-up); req/s. Measured in rounds across the routes like 3 and 4.
 */
export const keepAlive: SideBySide = {
  figure: 'reqPerSec',
  warm: async (t, b) => {
    const error = verify(await curl(t.route, keepAliveArgs(await urlConfig(b, 'warm.cfg', 64)), 60_000), { count: 64, down: 1024 });
    return error && `warm-up: ${error}`;
  },
  once: async (t, b) => {
    const n = b.sizes.keepAliveRequests;
    const result = await curl(t.route, keepAliveArgs(await urlConfig(b, 'ka.cfg', n)), 180_000);
    return verify(result, { count: n, down: 1024 }) ?? n / (result.ms / 1000);
  },
};

const keepAliveArgs = (cfg: string): string[] => ['--http1.1', '-Z', '--parallel-max', '16', '-K', cfg];

/** A curl config of `count` GETs of the 1 KiB resource, written once per run. */
async function urlConfig(b: Bench, name: string, count: number): Promise<string> {
  const file = join(b.tmp, name);
  if (!existsSync(file)) await writeUrlConfig(file, Array<string>(count).fill(`https://localhost:${b.h1Port}/1k`));
  return file;
}

/**
 * (2) New hosts, by IP and by name, host by host in turns across the routes: for each host, every
 * route makes a first request (fresh connection, leaf minted) and a second one (another fresh
 * connection, leaf cached) to the address 127.0.1.i, then the same to the name hi.newhost.test
 * (on routes that resolve it: curl --resolve for direct, the proxy's own rule for mitm). One curl
 * per request.
 */
export async function newHosts(targets: readonly Target[], b: Bench): Promise<Cell[]> {
  const kinds = ['ip', 'name'] as const;
  const times = targets.map(() => ({ ip: [[], []] as number[][], name: [[], []] as number[][] }));
  const failures: (string | undefined)[] = targets.map(() => undefined);
  for (let i = 1; i <= b.sizes.newHosts; i++) {
    for (const [k, t] of targets.entries()) {
      for (const kind of kinds) {
        if (failures[k] !== undefined || (kind === 'name' && !byName(t))) continue;
        const host = kind === 'ip' ? newHost(i) : newHostName(i);
        const resolve = kind === 'name' && !t.route.proxy ? ['--resolve', `${host}:${b.h1Port}:127.0.0.1`] : [];
        const insecure = kind === 'ip' && t.route.insecureIpHosts === true;
        for (const into of times[k]?.[kind] ?? []) {
          const result = await curl(t.route, ['--http1.1', '-o', '/dev/null', ...resolve, `https://${host}:${b.h1Port}/1k`], 30_000, {
            insecure,
          });
          const error = verify(result, { count: 1, down: 1024 });
          if (error) failures[k] = `${host}: ${error}`;
          into.push((result.transfers[0]?.seconds ?? NaN) * 1000);
        }
      }
    }
  }
  return targets.map((t, k): Cell => {
    const failure = failures[k];
    if (failure !== undefined) return fail(failure);
    const [firstIp = [], secondIp = []] = times[k]?.ip ?? [];
    const [firstName = [], secondName = []] = times[k]?.name ?? [];
    const insecure = t.route.insecureIpHosts === true;
    return {
      ok: true,
      values: {
        firstP50Ms: round2(median(firstIp)),
        secondP50Ms: round2(median(secondIp)),
        ...(byName(t) ? { firstByNameP50Ms: round2(median(firstName)), secondByNameP50Ms: round2(median(secondName)) } : {}),
        hosts: b.sizes.newHosts,
      },
      ...(insecure ? { note: 'curl -k: its leaves for IP hosts carry the IP as a DNS name, which curl rejects' } : {}),
    };
  });
}

/** Whether a route can reach the new host names: direct (curl --resolve) or a proxy that resolves them. */
function byName(t: Target): boolean {
  return t.route.proxy === undefined || t.route.resolvesNewHostNames === true;
}

/**
 * A workload measured side by side: every route is warmed up, then each round runs `once` on
 * every route in turn (direct, mitm, the peers), so the shared machine's changing speed hits all
 * alike. `once` returns the figure, or why it failed.
 */
export interface SideBySide {
  readonly figure: string;
  readonly warm: (t: Target, b: Bench) => Promise<string | undefined>;
  readonly once: (t: Target, b: Bench) => Promise<number | string>;
  /** Also report each proxy's peak RSS over all rounds. */
  readonly peakRss?: boolean;
}

/** (3) One large download on one connection: MiB/s; the proxy's peak RSS. Warmed up with a quarter of it. */
export const download: SideBySide = {
  figure: 'mibPerSec',
  peakRss: true,
  warm: async (t, b) => {
    const error = await warmUp(t.route, b);
    const warm = error ?? (await downloadBytes(t, b, (b.sizes.downloadMiB * MiB) / 4));
    return typeof warm === 'string' ? `warm-up: ${warm}` : undefined;
  },
  once: async (t, b) => {
    const seconds = await downloadBytes(t, b, b.sizes.downloadMiB * MiB);
    return typeof seconds === 'string' ? seconds : b.sizes.downloadMiB / seconds;
  },
};

/**
 * (4) One large upload (PUT of a file) on one connection: MiB/s; the origin answers with the byte
 * count it received. Warmed up with a file a quarter of the size.
 */
export const upload: SideBySide = {
  figure: 'mibPerSec',
  warm: async (t, b) => {
    const error = await warmUp(t.route, b);
    const warm = error ?? (await uploadFile(t, b, b.warmUploadFile, (b.sizes.uploadMiB * MiB) / 4));
    return typeof warm === 'string' ? `warm-up: ${warm}` : undefined;
  },
  once: async (t, b) => {
    const seconds = await uploadFile(t, b, b.uploadFile, b.sizes.uploadMiB * MiB);
    return typeof seconds === 'string' ? seconds : b.sizes.uploadMiB / seconds;
  },
};

/** Downloads `bytes` from the origin through `t`: seconds taken, or what went wrong. */
async function downloadBytes(t: Target, b: Bench, bytes: number): Promise<number | string> {
  const result = await curl(t.route, ['--http1.1', '-o', '/dev/null', `https://localhost:${b.h1Port}/bytes/${bytes}`], 300_000);
  return verify(result, { count: 1, down: bytes }) ?? result.transfers[0]?.seconds ?? NaN;
}

/**
 * (3b) A slow client: one download of the full-size body read at 1 MiB/s (`curl --limit-rate`)
 * for `slowReaderSeconds`, then cut off (the whole body would take 200 s at that rate): the
 * proxy's peak RSS growth over its idle RSS (started, before any connection) meanwhile. A proxy
 * that reads its origin regardless of the client grows by the body; one with backpressure by
 * what its buffers and socket windows hold.
 */
export async function slowReader(t: Target, b: Bench): Promise<Cell> {
  if (t.pid === undefined) return { ok: true, values: {}, note: 'direct has no proxy to measure' };
  const idle = (await memoryOf(t.pid)).rssKiB;
  const reset = await resetPeak(t.pid);
  const sampler = sampleRss(t.pid, 50);
  const seconds = b.sizes.slowReaderSeconds;
  const bytes = b.sizes.downloadMiB * MiB;
  const url = `https://localhost:${b.h1Port}/bytes/${bytes}`;
  const result = await curl(
    t.route,
    ['--http1.1', '--limit-rate', '1M', '--max-time', String(seconds), '-o', '/dev/null', url],
    (seconds + 30) * 1000,
  );
  const sampled = await sampler.stop();
  const peak = Math.max(sampled, reset ? (await memoryOf(t.pid)).hwmKiB : 0);
  const received = result.transfers[0]?.down ?? 0;
  // curl ends the transfer at --max-time with exit code 28; it must have read at about 1 MiB/s until then.
  if (!result.error?.startsWith('curl exited 28') || result.transfers[0]?.status !== 200) {
    return fail(result.error ?? `the ${b.sizes.downloadMiB} MiB body was read in under ${seconds} s at 1 MiB/s`);
  }
  if (received < (seconds / 2) * MiB) return fail(`only ${received} bytes read in ${seconds} s at a 1 MiB/s limit`);
  return {
    ok: true,
    values: { rssGrowthMiB: mib(peak - idle), idleRssMiB: mib(idle), peakRssMiB: mib(peak), readMiB: Math.round(received / MiB) },
  };
}

/** PUTs `file` (`bytes` long) to the origin through `t`: seconds taken, or what went wrong. */
async function uploadFile(t: Target, b: Bench, file: string, bytes: number): Promise<number | string> {
  const answer = join(b.tmp, `upload-${t.route.name}.txt`);
  await rm(answer, { force: true });
  const result = await curl(t.route, ['--http1.1', '-T', file, '-o', answer, `https://localhost:${b.h1Port}/upload`], 300_000);
  const error = verify(result, { count: 1 });
  if (error) return error;
  const received = (await readFile(answer, 'utf8').catch(() => '')).trim();
  if (received !== String(bytes) || result.transfers[0]?.up !== bytes) {
    return `sent ${result.transfers[0]?.up} bytes, origin received ${received || 'nothing'} of ${bytes}`;
  }
  return result.transfers[0]?.seconds ?? NaN;
}

/** Runs `workload` on `targets` in `b.sizes.rounds` rounds; one cell per target: the median of its rounds. */
export async function inRounds(targets: readonly Target[], workload: SideBySide, b: Bench): Promise<Cell[]> {
  const state = [];
  // One route after the other, so that no warm-up competes with another.
  // Each proxy's idle RSS: started and ready, before its first connection (all are, at this point).
  const idle = await Promise.all(targets.map(async (t) => (t.pid === undefined ? 0 : (await memoryOf(t.pid)).rssKiB)));
  for (const [i, t] of targets.entries()) {
    const error = await workload.warm(t, b);
    const watched = workload.peakRss === true && t.pid !== undefined;
    const reset = watched && (await resetPeak(t.pid as number));
    const sampler = watched ? sampleRss(t.pid as number, 50) : undefined;
    state.push({ t, error, figures: [] as number[], reset, sampler, idleKiB: idle[i] ?? 0 });
  }
  for (let round = 0; round < b.sizes.rounds; round++) {
    for (const one of state) {
      if (one.error !== undefined) continue;
      const outcome = await workload.once(one.t, b);
      if (typeof outcome === 'string') one.error = outcome;
      else one.figures.push(outcome);
    }
  }
  return Promise.all(
    state.map(async ({ t, error, figures, reset, sampler, idleKiB }) => {
      const sampled = (await sampler?.stop()) ?? 0;
      if (error !== undefined) return fail(error);
      const middle = median(figures);
      // Rates in the thousands (req/s) as whole numbers, MiB/s with one decimal.
      const values: Record<string, number> = { [workload.figure]: middle >= 1000 ? Math.round(middle) : round1(middle) };
      if (sampler && t.pid !== undefined) {
        const hwm = reset ? (await memoryOf(t.pid)).hwmKiB : 0;
        const peak = Math.max(sampled, hwm);
        values.peakRssMiB = mib(peak);
        values.idleRssMiB = mib(idleKiB);
        values.rssGrowthMiB = mib(peak - idleKiB);
      }
      return { ok: true, values, rounds: figures };
    }),
  );
}

/** (6) HTTP/2: 1 KiB GETs, up to 100 concurrent streams on one connection; skipped if the route speaks HTTP/1.1. */
export async function h2Streams(t: Target, b: Bench): Promise<Cell> {
  const url = `https://localhost:${b.h2Port}/1k`;
  const probe = await curl(t.route, ['--http2', '-o', '/dev/null', url], 30_000);
  const probeError = verify(probe, { count: 1, down: 1024 });
  if (probeError) return fail(`probe: ${probeError}`);
  const version = probe.transfers[0]?.httpVersion;
  if (version !== '2') return { ok: true, values: {}, note: `not measured: answers HTTP/${version} when offered h2` };
  const n = b.sizes.h2Requests;
  const args = (cfg: string): string[] => ['--http2', '-Z', '--parallel-max', '100', '-K', cfg];
  await writeUrlConfig(join(b.tmp, 'h2warm.cfg'), Array<string>(100).fill(url));
  await writeUrlConfig(join(b.tmp, 'h2.cfg'), Array<string>(n).fill(url));
  const warm = verify(await curl(t.route, args(join(b.tmp, 'h2warm.cfg')), 60_000), { count: 100, down: 1024, version: '2' });
  if (warm) return fail(`warm-up: ${warm}`);
  const result = await curl(t.route, args(join(b.tmp, 'h2.cfg')), 180_000);
  const error = verify(result, { count: n, down: 1024, version: '2' });
  if (error) return fail(error);
  const connections = result.transfers.reduce((sum, x) => sum + x.connects, 0);
  return { ok: true, values: { reqPerSec: Math.round(n / (result.ms / 1000)), requests: n, connections } };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

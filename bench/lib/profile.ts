// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD } from './build.js';

interface ProfileNode {
  readonly id: number;
  readonly hitCount?: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds on the system's monotonic clock, as process.hrtime() reads it. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A span of the monotonic clock in microseconds (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Now on the clock the profile's timestamps use. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** One line of the summary: where the time went, in ms and as a share of the busy (non-idle) time. */
export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

/**
 * The newest .cpuprofile of a main thread in `dir`: Node names them CPU.DATE.TIME.PID.TID.SEQ, and
 * a worker thread (the store's writer, mitm-store) writes one of its own, with TID > 0.
 */
export async function newestProfile(dir: string): Promise<CpuProfile> {
  const names = (await readdir(dir)).filter((n) => /\.\d+\.0\.\d+\.cpuprofile$/.test(n)).sort();
  const last = names.at(-1);
  if (!last) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(await readFile(join(dir, last), 'utf8')) as CpuProfile;
}

function where(url: string): string {
  if (!url) return '';
  return url
    .replace(`file://${BUILD}/`, '')
    .replace(/^file:\/\/.*\/node_modules\//, '')
    .replace(/\.js$/, '');
}

/** Milliseconds of samples per profile node id, counting only samples inside `window`. */
function selfTimes(profile: CpuProfile, window: Window): Map<number, number> {
  const ms = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    if (id === undefined || at < window.fromUs || at > window.toUs) continue;
    ms.set(id, (ms.get(id) ?? 0) + span / 1000);
  }
  return ms;
}

/**
 * Self time per function (top `n`) and per file (top `n`) within `window`, idle time left out of
 * the shares.
 */
export function summarise(
  profile: CpuProfile,
  n: number,
  window: Window,
): { busyMs: number; idleMs: number; functions: SelfTime[]; files: SelfTime[] } {
  const times = selfTimes(profile, window);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = times.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const file = where(url) || functionName;
    const name = url ? `${functionName || '(anonymous)'}  ${file}:${lineNumber + 1}` : functionName;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const busy = [...byFunction.values()].reduce((a, b) => a + b, 0);
  const top = (map: Map<string, number>): SelfTime[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: busy ? ms / busy : 0 }));
  return { busyMs: Math.round(busy), idleMs: Math.round(idle), functions: top(byFunction), files: top(byFile) };
}

/** The summary as text. */
export function formatSummary(s: ReturnType<typeof summarise>): string {
  const line = (t: SelfTime): string => `${String(t.ms).padStart(7)} ms  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.name}`;
  return [
    `busy ${s.busyMs} ms, idle ${s.idleMs} ms (shares below are of busy time)`,
    'top self time by function:',
    ...s.functions.map(line),
    'top self time by file:',
    ...s.files.map(line),
  ].join('\n');
}

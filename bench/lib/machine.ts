// What the figures were measured on, for the report.
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { pinning, CLIENT_CPU, PROXY_CPU } from './procs.js';

/** The machine, the tools and the pinning, with a one-line summary. */
export interface Machine {
  readonly summary: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly curl: string;
  readonly openssl: string;
  readonly pinned: boolean;
}

/** Describes this machine (Linux). */
export function describeMachine(): Machine {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const cores = cpus().length;
  const memoryGiB = Math.round(totalmem() / 2 ** 30);
  const version = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '?';
    } catch {
      return '?';
    }
  };
  const curl = version('curl', ['--version']).split(' ').slice(0, 2).join(' ');
  const openssl = version('openssl', ['version']).split(' ').slice(0, 2).join(' ');
  const kernel = release();
  const pinned = pinning();
  const pins = pinned ? `proxy on core ${PROXY_CPU}, clients and origin on core ${CLIENT_CPU}` : 'no taskset: nothing pinned';
  const summary = `${cpu}, ${cores} cores, ${memoryGiB} GiB; Linux ${kernel}; Node ${process.version}; ${curl}; ${openssl}; ${pins}`;
  return { summary, cpu, cores, memoryGiB, kernel, node: process.version, curl, openssl, pinned };
}

// The proxy's memory, read from /proc (Linux): resident set size, its peak, and a sampler.
import { readFile, writeFile } from 'node:fs/promises';

/** Resident set size (`VmRSS`) and its peak (`VmHWM`) of a process, in KiB. */
export async function memoryOf(pid: number): Promise<{ rssKiB: number; hwmKiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/**
 * Resident KiB of the process's `[heap]` mapping: glibc's main arena (the brk heap), where Node's
 * and OpenSSL's native allocations of the main thread live. Freed chunks there stay resident
 * until glibc reuses them, except at the top of the heap.
 */
export async function brkHeapKiB(pid: number): Promise<number> {
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  const heap = /^\S+ \S+ \S+ \S+ \S+\s+\[heap\]\n(?:[A-Z]\S*:.*\n)*?Rss:\s+(\d+) kB/m.exec(smaps);
  return Number(heap?.[1] ?? 0);
}

/** Resets a process's peak RSS (`VmHWM`) to its current RSS; false where the kernel refuses. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples `VmRSS` every `everyMs` until `stop()`, which resolves to the highest sample in KiB. */
export function sampleRss(pid: number, everyMs: number): { stop(): Promise<number> } {
  let peak = 0;
  const tick = async (): Promise<void> => {
    const { rssKiB } = await memoryOf(pid).catch(() => ({ rssKiB: 0 }));
    peak = Math.max(peak, rssKiB);
  };
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return {
    stop: async () => {
      clearInterval(timer);
      await tick();
      return peak;
    },
  };
}

/** KiB → MiB, one decimal. */
export function mib(kib: number): number {
  return Math.round((kib / 1024) * 10) / 10;
}

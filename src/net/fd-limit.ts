// Node cannot raise RLIMIT_NOFILE (there is no setrlimit binding), so the connection limit is sized
// under the soft limit the process was started with: `ulimit -n` before `mitm start` raises both.
import { readFileSync } from 'node:fs';

/** The soft open-file limit from /proc/self/limits (Linux), or undefined where it cannot be read. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === undefined) return undefined;
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft) || undefined;
}

/**
 * The default cap on client connections: each may hold one origin connection and a certificate
 * sniff besides its own, and the process needs some files of its own, so a third of what is left
 * after 256, between 16 and 10 000. Where the limit cannot be read (macOS, Windows), 1000.
 */
export function defaultMaxConnections(softLimit = openFileLimit()): number {
  if (softLimit === undefined) return 1000;
  return Math.max(16, Math.min(10_000, Math.floor((softLimit - 256) / 3)));
}

// V8 flags a process sets for itself once it is running (src/cli/memory-tuning.ts), remembered so
// they can be set again: V8 configures every new isolate's heap with process-wide flags, and a
// worker thread's start (the store's writer, record/store/write-thread.ts; Node's loader thread,
// which hooks/mitm-alias.ts's register() starts for --hook files) puts --semi-space-growth-factor
// back to V8's default of 2, after which the proxy's young generation grew from 1 to 16 MiB per
// semi-space (docs/performance.md, round five of the store). Each of those threads sets them again.
import { setFlagsFromString } from 'node:v8';

const set: string[] = [];

/** Sets a V8 flag for this process and remembers it for `processFlags`. */
export function setProcessFlag(flag: string): void {
  setFlagsFromString(flag);
  set.push(flag);
}

/** The flags `setProcessFlag` set, in order: a worker thread we start sets them again once it runs. */
export function processFlags(): readonly string[] {
  return [...set];
}

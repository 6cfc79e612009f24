// Imported first by the CLI (main.ts) for its side effects on its own process, which runs the
// proxy: three things that bound the proxy's memory under large and slow transfers
// (docs/performance.md, "Download memory"). Library users choose for their own process.
//
// 1. WebAssembly compiled from here on, which in a mitm process is undici's HTTP/1.1 parser
//    (llhttp), stays on V8's baseline compiler (Liftoff). V8 otherwise recompiles the parser's hot
//    functions with TurboFan on background threads once bodies flow, and that compilation's
//    scratch memory stays in glibc's per-thread arenas: ~25 MiB of RSS from the first large body
//    on, for no measurable speed. The flag is read when a module is compiled: before undici loads.
// 2. Every decrypted TLS record reaches JavaScript in an ArrayBuffer of its own, freed only when
//    V8 collects its Buffer; a proxy allocates little else, so V8 may not collect for tens of MiB
//    of records (its external-memory trigger is 64 MiB). A minor collection whenever the
//    ArrayBuffers have grown by NUDGE_BYTES since the last look frees them; it costs a
//    millisecond or two with the young generation holding little else.
// 3. The young generation keeps its initial size: start-up and the scavenges above
//    would otherwise grow its semi-spaces to 8, then 16 MiB each. 8 MiB less idle RSS, 13–18 MiB
//    less at a download's peak, and no more CPU per request or per download side by side. V8
//    resets this flag when a worker thread starts: the store's writer thread sets the flags set
//    through ../v8-flags.ts again.
import { runInNewContext } from 'node:vm';
import { setProcessFlag } from '../v8-flags.js';

const NUDGE_BYTES = 4 * 2 ** 20;
const NUDGE_EVERY_MS = 50;

setProcessFlag('--liftoff-only');
setProcessFlag('--semi-space-growth-factor=1');
setProcessFlag('--expose-gc');
let collect: ((options: { type: 'minor' }) => void) | undefined;
let floor = process.memoryUsage().arrayBuffers;
setInterval(() => {
  const now = process.memoryUsage().arrayBuffers;
  if (now - floor < NUDGE_BYTES) {
    floor = Math.min(floor, now);
    return;
  }
  collect ??= minorCollector();
  collect({ type: 'minor' });
  floor = process.memoryUsage().arrayBuffers;
}, NUDGE_EVERY_MS).unref();

/**
 * V8's gc(), from a context created after --expose-gc (the main one, made before, has none):
 * created on the first nudge rather than at start, where a new context cost 2-10 ms.
 */
function minorCollector(): (options: { type: 'minor' }) => void {
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as (options: { type: 'minor' }) => void) : () => undefined;
}

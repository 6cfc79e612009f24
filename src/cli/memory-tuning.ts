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
//    millisecond or two with the young generation holding little else. The look runs every
//    NUDGE_EVERY_MS only while traffic flows: 5 s without growth slow it to once a second,
//    half a minute more stops it, and a new connection, a request or a minor garbage collection
//    (traffic allocates) brings it back to NUDGE_EVERY_MS, so an idle proxy is not woken 20
//    times a second.
// 3. The young generation keeps its initial size: start-up and the scavenges above
//    would otherwise grow its semi-spaces to 8, then 16 MiB each. 8 MiB less idle RSS, 13–18 MiB
//    less at a download's peak, and no more CPU per request or per download side by side. V8
//    resets this flag when a worker thread starts: the store's writer thread sets the flags set
//    through ../v8-flags.ts again.
import { subscribe } from 'node:diagnostics_channel';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { setProcessFlag } from '../v8-flags.js';

const NUDGE_BYTES = 4 * 2 ** 20;
const NUDGE_EVERY_MS = 50;
// After QUIET_LOOKS looks without growth the looks slow to one every QUIET_EVERY_MS (a slow
// reader's bursts can be seconds apart), and after IDLE_LOOKS more of those they stop.
const QUIET_LOOKS = 100;
const QUIET_EVERY_MS = 1000;
const IDLE_LOOKS = 30;

setProcessFlag('--liftoff-only');
setProcessFlag('--semi-space-growth-factor=1');
setProcessFlag('--expose-gc');
let collect: ((options: { type: 'minor' }) => void) | undefined;
let floor = process.memoryUsage().arrayBuffers;
let last = floor;
let quietLooks = 0;
let looking: NodeJS.Timeout | undefined;
let everyMs = 0;

/** One look at the ArrayBuffers: a minor collection past NUDGE_BYTES of growth; slower, then none, once quiet. */
function look(): void {
  const now = process.memoryUsage().arrayBuffers;
  if (now - floor >= NUDGE_BYTES) {
    collect ??= minorCollector();
    collect({ type: 'minor' });
    floor = process.memoryUsage().arrayBuffers;
    last = floor;
    wake();
    return;
  }
  floor = Math.min(floor, now);
  const grew = now > last;
  last = now;
  if (grew) {
    wake();
    return;
  }
  quietLooks += 1;
  if (quietLooks === QUIET_LOOKS) lookEvery(QUIET_EVERY_MS);
  else if (quietLooks === QUIET_LOOKS + IDLE_LOOKS) lookEvery(0);
}

/** Looks every `ms` from now on (0: no more looks until the next wake()). */
function lookEvery(ms: number): void {
  if (ms === everyMs) return;
  clearInterval(looking);
  everyMs = ms;
  looking = ms === 0 ? undefined : setInterval(look, ms).unref();
}

/** Looks every NUDGE_EVERY_MS again; called on every sign of traffic, so it does little else. */
function wake(): void {
  quietLooks = 0;
  lookEvery(NUDGE_EVERY_MS);
}

// Signs of traffic: a connection accepted or dialled, an HTTP/1.1 request (also on a kept-alive
// connection), and minor garbage collections, which traffic of any kind (HTTP/2 streams, WebSocket
// messages, piped tunnels) causes as it allocates. Not the major ones: V8's memory reducer runs
// those on an idle process.
for (const channel of ['net.server.socket', 'net.client.socket', 'http.server.request.start']) subscribe(channel, wake);
new PerformanceObserver((list) => {
  if (list.getEntries().some((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR))
    wake();
}).observe({ entryTypes: ['gc'] });
wake();

/**
 * V8's gc(), from a context created after --expose-gc (the main one, made before, has none):
 * created on the first nudge rather than at start, where a new context cost 2-10 ms.
 */
function minorCollector(): (options: { type: 'minor' }) => void {
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as (options: { type: 'minor' }) => void) : () => undefined;
}

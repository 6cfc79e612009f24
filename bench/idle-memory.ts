// Where the memory of idle tunnels goes, and what stays after they close (docs/performance.md,
// "Idle tunnels: memory returned after close"): the bench's own pieces (origin, a Node peer of
// bench/peers/, its warm-up request, clients/idle-tunnels.ts) and, at the base (1 s after the
// warm-up, as workload 5), with the tunnels held and every 5 s after they close, the proxy's
// resident memory by kind of mapping from /proc/PID/smaps: the node binary and libraries
// (file-backed), anonymous mappings (V8's heap pages, the threads' glibc arenas) and glibc's main
// heap ([heap]); beside it V8's heapUsed and code space, which a probe preloaded into the proxy
// (lib/heap-probe.ts) writes on SIGUSR2.
// Run after `npm run bench` has built bench/results/build (Linux):
//   node --import tsx bench/idle-memory.ts [--peer mitm] [--count 2000] [--cycles 1] [--settle 30]
// --cycles 2 opens and closes a second round of tunnels in the same proxy: whether it reuses what
// the first left resident.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { built } from './lib/build.js';
import { makeOriginPki } from './lib/certs.js';
import { curl, type Route, verify } from './lib/curl.js';
import { mib } from './lib/memory.js';
import { CLIENT_CPU, killAll, PROXY_CPU, Proc } from './lib/procs.js';

const { values } = parseArgs({
  options: {
    peer: { type: 'string', default: 'mitm' },
    count: { type: 'string', default: '2000' },
    cycles: { type: 'string', default: '1' },
    settle: { type: 'string', default: '30' },
  },
});
const count = Number(values.count);
const cycles = Number(values.cycles);
const settleSeconds = Number(values.settle);
for (const [flag, value] of [
  ['--count', count],
  ['--cycles', cycles],
  ['--settle', settleSeconds],
] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`bench/idle-memory: ${flag} takes a whole number ≥ 1, not "${value}"`);
}

/** Resident KiB of the proxy by kind of mapping. */
async function byMapping(pid: number): Promise<{ total: number; file: number; anonymous: number; heap: number }> {
  const kinds = { total: 0, file: 0, anonymous: 0, heap: 0 };
  let kind: 'file' | 'anonymous' | 'heap' | undefined;
  for (const line of (await readFile(`/proc/${pid}/smaps`, 'utf8')).split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      kind = name === '' ? 'anonymous' : name === '[heap]' ? 'heap' : name.startsWith('/') ? 'file' : undefined;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    kinds.total += Number(rss[1]);
    if (kind) kinds[kind] += Number(rss[1]);
  }
  return kinds;
}

const tmp = await mkdtemp(join(tmpdir(), 'mitm-idle-memory-'));
try {
  const pki = makeOriginPki(tmp, 1);
  const origin = new Proc('node', [built('bench/origin.ts'), '--cert', pki.cert, '--key', pki.key], CLIENT_CPU);
  const { h1Port } = (await origin.nextJson(30_000)) as { h1Port: number };
  const probeFile = join(tmp, 'probe.json');
  process.env.HEAP_PROBE = probeFile;
  const proxy = new Proc(
    'node',
    ['--import', built('bench/lib/heap-probe.ts'), built(`bench/peers/${values.peer}.ts`), '--origin-ca', pki.caCert, '--state', tmp],
    PROXY_CPU,
  );
  const ready = (await proxy.nextJson(60_000)) as { port: number; ca: string };
  const ca = ready.ca.startsWith('/') ? ready.ca : join(process.cwd(), ready.ca);
  const route: Route = { name: values.peer, proxy: `http://127.0.0.1:${ready.port}`, ca };
  const { pid } = proxy;

  const show = async (label: string): Promise<void> => {
    process.kill(pid, 'SIGUSR2');
    let v8 = '';
    for (let i = 0; i < 50 && v8 === ''; i++) {
      await sleep(20);
      v8 = await readFile(probeFile, 'utf8').catch(() => '');
    }
    await rm(probeFile, { force: true });
    const heapStats = (v8 ? JSON.parse(v8) : {}) as { heapUsed?: number; codeSpace?: number };
    const m = await byMapping(pid);
    const v8Text = v8 ? `V8 heapUsed ${heapStats.heapUsed} code space ${heapStats.codeSpace}` : 'V8 figures: no answer from the probe';
    console.log(
      `${label.padEnd(16)} RSS ${mib(m.total)}  file-backed ${mib(m.file)}  anonymous ${mib(m.anonymous)}  glibc [heap] ${mib(m.heap)}  ${v8Text} (MiB)`,
    );
  };

  // The warm-up of workload 5: the leaf for localhost minted, the TLS paths compiled.
  const warm = verify(await curl(route, ['--http1.1', '-o', '/dev/null', `https://localhost:${h1Port}/1k`], 30_000), {
    count: 1,
    down: 1024,
  });
  if (warm) throw new Error(`warm-up: ${warm}`);
  await sleep(1000);
  await show('base');
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const client = new Proc(
      'node',
      [
        built('bench/clients/idle-tunnels.ts'),
        '--proxy-port',
        String(ready.port),
        '--target',
        `localhost:${h1Port}`,
        '--count',
        String(count),
        '--ca',
        ca,
      ],
      CLIENT_CPU,
    );
    const opened = (await client.nextJson(180_000)) as { open?: number };
    if (opened.open !== count) throw new Error(`cycle ${cycle}: ${opened.open ?? 0} of ${count} tunnels opened`);
    await sleep(1500);
    await show(`cycle ${cycle}: held`);
    client.send('close');
    await client.nextJson(30_000);
    for (let s = 5; s <= settleSeconds; s += 5) {
      await sleep(5000);
      await show(`  closed +${s} s`);
    }
    await client.stop();
  }
} finally {
  killAll();
  await rm(tmp, { recursive: true, force: true });
}

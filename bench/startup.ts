// Start-up, side by side in one run (issue #17): a bare `node` printing a line (the floor any Node
// CLI sits on), a `node` that loads net/tls/http/http2 and listens (the floor of a Node proxy),
// `mitm start` until its ready line, `mitm run -- true` to its exit, and
// `mitmdump --version` when mitmproxy is installed (for reference: it does not start a proxy).
// Runs interleave, so a busy machine slows every row alike; the table gives medians, each
// against the floor, plus the CPU each process used (its threads' schedstat at the marker; for a
// row timed to its exit: the process and its children, as `times` in a wrapping sh reports them)
// and the proxy's RSS at its ready line.
// Runs the built CLI (dist/, made by `npm run build`), as `npx mitm` does. Each `--build NAME=DIR`
// adds the same two mitm rows for another build: DIR is a package root holding dist/ and
// package.json whose node_modules resolve (a copy of an older dist/ with node_modules symlinked),
// so a change is measured against its before in one run.
//
// Run: node --import tsx bench/startup.ts [runs=15] [--build NAME=DIR]...
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/build.js';

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssMiB: number;
}

interface Row {
  readonly name: string;
  readonly command: readonly string[];
  /** Stop timing when this appears on stdout or stderr; undefined: when the process exits. */
  readonly until?: string;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { build: { type: 'string', multiple: true } } });
const runs = Number(positionals[0] ?? 15);
const builds: Array<readonly [string, string]> = [['mitm', ROOT]];
for (const spec of values.build ?? []) {
  const at = spec.indexOf('=');
  if (at <= 0) throw new Error(`--build ${spec}: expected NAME=DIR`);
  builds.push([spec.slice(0, at), resolve(spec.slice(at + 1))]);
}
const LISTENING = [
  "const net = require('node:net');",
  "for (const m of ['node:tls', 'node:http', 'node:http2', 'node:crypto']) require(m);",
  "net.createServer().listen(0, '127.0.0.1', () => console.log('ready'));",
].join(' ');
const CLK_TCK = 100;
const dir = await mkdtemp(join(tmpdir(), 'mitm-startup-'));

try {
  const ca = join(dir, 'ca');
  spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'ca', 'init', '--ca', ca], { stdio: 'ignore' });
  const rows: Row[] = [
    { name: 'node (floor)', command: [process.execPath, '-e', 'console.log("ready"); setInterval(() => {}, 1000)'], until: 'ready' },
    // The least a proxy on Node does before it can say ready: load net, tls, http and http2, listen.
    { name: 'node listening', command: [process.execPath, '-e', LISTENING], until: 'ready' },
  ];
  for (const [name, root] of builds) {
    const cli = join(root, 'dist', 'cli', 'main.js');
    const tag = name === 'mitm' ? '' : ` (${name})`;
    rows.push(
      { name: `mitm start${tag}`, command: [process.execPath, cli, 'start', '--ca', ca, '--port', '0'], until: 'listening on' },
      { name: `mitm run -- true${tag}`, command: [process.execPath, cli, 'run', '--ca', ca, '--', 'true'] },
    );
  }
  if (spawnSync('mitmdump', ['--version'], { stdio: 'ignore' }).status === 0) {
    rows.push({ name: 'mitmdump --version', command: ['mitmdump', '--version'] });
  }
  const samples = new Map<string, Sample[]>(rows.map((row) => [row.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const row of rows) samples.get(row.name)?.push(await measure(row));
  }
  const floor = median(samples.get('node (floor)') ?? [], 'wallMs');
  console.log(`start-up, ${runs} interleaved runs, medians (${new Date().toISOString()})`);
  console.log(
    `${'row'.padEnd(28)} ${'wall ms'.padStart(8)} ${'min–max'.padStart(11)} ${'× floor'.padStart(8)} ${'cpu ms'.padStart(7)} ${'RSS MiB'.padStart(8)}`,
  );
  for (const row of rows) {
    const rowSamples = samples.get(row.name) ?? [];
    const wall = median(rowSamples, 'wallMs');
    const walls = rowSamples.map((sample) => sample.wallMs);
    const spread = `${Math.min(...walls).toFixed(0)}–${Math.max(...walls).toFixed(0)}`;
    const cpu = median(rowSamples, 'cpuMs');
    const rss = row.until === undefined ? '' : median(rowSamples, 'rssMiB').toFixed(1);
    console.log(
      `${row.name.padEnd(28)} ${wall.toFixed(0).padStart(8)} ${spread.padStart(11)} ${(wall / floor).toFixed(2).padStart(8)} ${(Number.isNaN(cpu) ? '' : cpu.toFixed(0)).padStart(7)} ${rss.padStart(8)}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Runs `row` once: wall time to its marker (or exit), CPU time and RSS read from /proc at that moment. */
async function measure(row: Row): Promise<Sample> {
  // Timed to its exit, /proc has nothing left to read: a sh around the command prints its CPU times.
  const [command = '', ...args] =
    row.until === undefined ? ['/bin/sh', '-c', '"$@"; status=$?; times >&2; exit $status', 'sh', ...row.command] : row.command;
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${row.name}: could not start ${command}`);
  let seen = '';
  const marked = new Promise<Sample>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${row.name}: no result within 30 s`)), 30_000);
    deadline.unref();
    const onOutput = (chunk: Buffer): void => {
      if (row.until === undefined) return;
      seen += chunk.toString('utf8');
      if (!seen.includes(row.until)) return;
      const wallMs = performance.now() - started;
      void usage(pid).then((used) => {
        clearTimeout(deadline);
        resolve({ wallMs, ...used });
      }, reject);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    if (row.until === undefined) {
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => {
        errors += chunk.toString('utf8');
      });
      let wallMs = Number.NaN;
      child.on('exit', () => {
        wallMs = performance.now() - started;
      });
      // 'close' follows 'exit' once stderr has ended too: `times` prints the shell's user and system
      // time, then its children's ("0m0.310s 0m0.052s").
      child.on('close', () => {
        clearTimeout(deadline);
        resolve({ wallMs, cpuMs: childrenCpuMs(errors), rssMiB: Number.NaN });
      });
    }
  });
  try {
    return await marked;
  } finally {
    child.kill('SIGKILL');
  }
}

/** The children's CPU time (user + system) in the last line of `times` output; NaN when there is none. */
function childrenCpuMs(text: string): number {
  const last = text.trim().split('\n').at(-1) ?? '';
  const times = [...last.matchAll(/(\d+)m([\d.]+)s/g)].map((match) => (Number(match[1]) * 60 + Number(match[2])) * 1000);
  return times.length === 2 ? (times[0] ?? 0) + (times[1] ?? 0) : Number.NaN;
}

/** CPU time (user + system) and resident set of a live process, from /proc. */
async function usage(pid: number): Promise<{ cpuMs: number; rssMiB: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  const ticksMs = ((Number(stat[11]) + Number(stat[12])) * 1000) / CLK_TCK;
  return { cpuMs: (await scheduledMs(pid)) ?? ticksMs, rssMiB: rssKiB / 1024 };
}

/**
 * CPU time of a live process's threads in nanoseconds from /proc/PID/task/TID/schedstat, as ms:
 * /proc/PID/stat counts in 10 ms ticks, too coarse to tell two builds apart. Undefined without
 * schedstat (then the ticks are used).
 */
async function scheduledMs(pid: number): Promise<number | undefined> {
  try {
    let ns = 0;
    for (const task of await readdir(`/proc/${pid}/task`)) {
      ns += Number((await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8')).split(' ')[0]);
    }
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** The median of one field over `samples`, ignoring NaN. */
function median(samples: readonly Sample[], field: keyof Sample): number {
  const values = samples.map((sample) => sample[field]).filter((value) => !Number.isNaN(value));
  values.sort((a, b) => a - b);
  return values[values.length >> 1] ?? Number.NaN;
}

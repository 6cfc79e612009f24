// Issue #5's benchmark: the same workloads straight to a local origin (direct), through mitm, and
// through the peers (http-mitm-proxy, mockttp, and mitmdump when installed), in one run.
//
//   npm run bench                 full run (a few minutes), table on stdout, JSON in bench/results/latest.json
//   npm run bench -- --quick      smaller sizes (under 2 minutes)
//   npm run bench -- --profile    only workload (1) through mitm under `node --cpu-prof`, summarised
//   npm run bench -- --profile=download   the same for another workload (names as in the JSON)
//   npm run bench -- --profile --peer=mitm-store   the same through another Node peer (mitm-unrecorded, mitm-store…)
//   npm run bench -- --only=keepAlive,download   only these workloads (with --quick or full sizes)
//   npm run bench -- --base=COMMIT   also mitm's src/ as it was at COMMIT, as peer mitm@COMMIT (before/after in one run)
//
// All traffic stays on 127.0.0.0/8. See bench/README.md for what each workload does.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD, RESULTS, buildBase, buildTree, built } from './lib/build.js';
import { makeOriginPki } from './lib/certs.js';
import { ratioChart } from './lib/chart.js';
import { idleTunnels } from './lib/idle.js';
import { wsMessages } from './lib/ws.js';
import { describeMachine } from './lib/machine.js';
import { peers, type Peer, type Running } from './lib/peers.js';
import { CLIENT_CPU, Proc, killAll, pinSelf } from './lib/procs.js';
import { formatSummary, monotonicUs, newestProfile, summarise } from './lib/profile.js';
import {
  WORKLOADS,
  chartRows,
  checkTargets,
  formatNotes,
  formatTable,
  formatTargets,
  recordingRounds,
  rows,
  type Results,
  type WorkloadName,
} from './lib/report.js';
import {
  MiB,
  download,
  h2Streams,
  inRounds,
  keepAlive,
  newHosts,
  slowReader,
  upload,
  type Bench,
  type Cell,
  type SideBySide,
  type Sizes,
  type Target,
} from './lib/workloads.js';

const FULL: Sizes = {
  keepAliveRequests: 3000,
  newHosts: 50,
  downloadMiB: 200,
  slowReaderSeconds: 25,
  uploadMiB: 100,
  rounds: 3,
  idleTunnels: 2000,
  idleSettleMs: 45_000,
  h2Requests: 1000,
  wsMessages: 20_000,
};
const QUICK: Sizes = {
  keepAliveRequests: 600,
  newHosts: 10,
  downloadMiB: 50,
  slowReaderSeconds: 10,
  uploadMiB: 25,
  rounds: 1,
  idleTunnels: 300,
  idleSettleMs: 0,
  h2Requests: 500,
  wsMessages: 5000,
};

// Measured on every route at once, round by round (inRounds) or host by host (newHosts); the rest
// route by route.
const inTurns = (workload: SideBySide) => (targets: readonly Target[], b: Bench) => inRounds(targets, workload, b);
const SIDE_BY_SIDE: Partial<Record<WorkloadName, (targets: readonly Target[], b: Bench) => Promise<Cell[]>>> = {
  keepAlive: inTurns(keepAlive),
  newHosts,
  download: inTurns(download),
  upload: inTurns(upload),
  wsMessages: inTurns(wsMessages),
};

const RUNNERS: Record<WorkloadName, (t: Target, b: Bench) => Promise<Cell>> = {
  keepAlive: oneTarget(keepAlive),
  newHosts: async (t, b) => (await newHosts([t], b))[0] as Cell,
  download: oneTarget(download),
  slowReader,
  upload: oneTarget(upload),
  idleTunnels,
  h2Streams,
  wsMessages: oneTarget(wsMessages),
};

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const quick = process.argv.includes('--quick');
const profileArg = process.argv.find((arg) => arg === '--profile' || arg.startsWith('--profile='));
const profile = profileArg === undefined ? undefined : ((profileArg.split('=')[1] ?? 'keepAlive') as WorkloadName);
if (profile !== undefined && !WORKLOADS.includes(profile)) {
  console.error(`bench: --profile takes one of ${WORKLOADS.join(', ')}`);
  process.exit(2);
}
const profilePeer = process.argv.find((arg) => arg.startsWith('--peer='))?.slice('--peer='.length) ?? 'mitm';
const onlyArg = process.argv.find((arg) => arg.startsWith('--only='));
const only = onlyArg === undefined ? WORKLOADS : (onlyArg.slice('--only='.length).split(',') as WorkloadName[]);
const unknown = only.filter((name) => !WORKLOADS.includes(name));
if (unknown.length > 0 || only.length === 0) {
  console.error(`bench: --only takes a comma-separated list of ${WORKLOADS.join(', ')}`);
  process.exit(2);
}
const sizes = quick ? QUICK : FULL;
const baseArg = process.argv.find((arg) => arg.startsWith('--base='));
const baseCommit = baseArg?.slice('--base='.length);
if (baseCommit !== undefined && !/^[\w.^~/-]+$/.test(baseCommit)) {
  console.error(`bench: --base takes a commit (a hash, tag or ref), not "${baseCommit}"`);
  process.exit(2);
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}
pinSelf();

const tmp = await mkdtemp(join(tmpdir(), 'mitm-bench-'));
let exitCode = 0;
try {
  log(`building into ${BUILD} (${await buildTree()} files)`);
  const pki = makeOriginPki(tmp, sizes.newHosts);
  const uploadFile = join(tmp, 'upload.bin');
  const warmUploadFile = join(tmp, 'upload-warm.bin');
  const uploadBytes = Buffer.concat(Array.from({ length: sizes.uploadMiB }, () => randomBytes(MiB)));
  await writeFile(uploadFile, uploadBytes);
  await writeFile(warmUploadFile, uploadBytes.subarray(0, uploadBytes.length / 4));
  const origin = new Proc('node', [built('bench/origin.ts'), '--cert', pki.cert, '--key', pki.key], CLIENT_CPU);
  const ports = (await origin.nextJson(30_000)) as { h1Port: number; h2Port: number };
  const bench: Bench = { tmp, h1Port: ports.h1Port, h2Port: ports.h2Port, uploadFile, warmUploadFile, sizes };
  const state = join(tmp, 'state');
  await mkdir(state);
  const base = baseCommit === undefined ? undefined : { root: await buildBase(baseCommit), commit: baseCommit };
  const all = peers(base);
  if (profile) {
    await runProfile(profile, all, pki.caCert, state, bench);
  } else {
    exitCode = await runAll(all, pki.caCert, state, bench);
  }
} catch (error) {
  log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  killAll();
  await rm(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

/** Every workload on every route (workload by workload, so load changes hit all routes alike). */
async function runAll(all: readonly Peer[], originCa: string, state: string, bench: Bench): Promise<number> {
  const started = new Date();
  const results: Results = { direct: {} };
  const direct: Target = { route: { name: 'direct', ca: originCa } };
  const usable = all.filter((peer) => !peer.missing);
  for (const peer of usable) results[peer.name] = {};
  for (const workload of only) {
    const measured = SIDE_BY_SIDE[workload];
    if (measured) {
      log(`${workload}: every route, ${workload === 'newHosts' ? 'host by host' : `${bench.sizes.rounds} round(s)`}`);
      const cells = await sideBySide(
        usable.filter((peer) => !peer.only || peer.only.includes(workload)),
        direct,
        originCa,
        state,
        (targets) => measured(targets, bench),
      );
      for (const [name, cell] of cells) results[name] = { ...results[name], [workload]: cell };
      continue;
    }
    log(`${workload}: direct`);
    results.direct = { ...results.direct, [workload]: await attempt(() => RUNNERS[workload](direct, bench)) };
    for (const peer of usable) {
      if (peer.only && !peer.only.includes(workload)) continue;
      log(`${workload}: ${peer.name}`);
      const cell = await attempt(async () => {
        const running = await peer.start(originCa, state);
        try {
          return await RUNNERS[workload]({ route: running.route, pid: running.proc.pid }, bench);
        } finally {
          await running.proc.stop();
        }
      });
      results[peer.name] = { ...results[peer.name], [workload]: cell };
    }
  }
  const routes = ['direct', ...usable.map((peer) => peer.name)];
  const targets = checkTargets(results);
  const notes = [
    ...all.map((peer) => (peer.missing ? `${peer.name}: ${peer.missing}` : peer.note ? `${peer.name}: ${peer.note}` : '')).filter(Boolean),
    ...formatNotes(results),
    ...recordingRounds(results),
  ];
  const flags = [quick ? '--quick' : '', onlyArg ?? '', baseArg ?? ''].filter(Boolean);
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
  const machine = describeMachine();
  const text = [
    `${command}  (${started.toISOString()})`,
    machine.summary,
    '',
    formatTable(results, routes, rows(sizes)),
    '',
    ...notes,
    '',
    'targets (issues #5, #13, #17), mitm:',
    formatTargets(targets),
  ].join('\n');
  console.log(text);
  await mkdir(RESULTS, { recursive: true });
  const json = { date: started.toISOString(), command, machine, sizes, routes, results, targets, notes };
  await writeFile(join(RESULTS, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(RESULTS, 'latest.txt'), `${text}\n`);
  const title = `${command}, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machine.cores} cores, Node ${machine.node}`;
  await writeFile(join(RESULTS, 'latest.svg'), ratioChart(title, routes.slice(1), chartRows(results, routes, rows(sizes))));
  log(`wrote ${join(RESULTS, 'latest.json')}`);
  // A failure of direct or mitm makes the run fail; a peer's failure is reported in the table.
  const failed = ['direct', 'mitm'].some((route) => Object.values(results[route] ?? {}).some((cell) => !cell.ok));
  return failed ? 1 : 0;
}

/**
 * Starts every peer at once (each on the proxy core, idle until its turn), runs `measure` on
 * direct and all of them, and stops them; a peer that fails to start gets that as its cell.
 */
async function sideBySide(
  peers: readonly Peer[],
  direct: Target,
  originCa: string,
  state: string,
  measure: (targets: readonly Target[]) => Promise<Cell[]>,
): Promise<Map<string, Cell>> {
  const cells = new Map<string, Cell>();
  const running: Running[] = [];
  try {
    for (const peer of peers) {
      try {
        running.push(await peer.start(originCa, state));
      } catch (error) {
        cells.set(peer.name, { ok: false, values: {}, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const targets = [direct, ...running.map((r): Target => ({ route: r.route, pid: r.proc.pid }))];
    const measured = await attempt(async () => {
      const results = await measure(targets);
      targets.forEach((t, i) => {
        cells.set(t.route.name, results[i] as Cell);
      });
      return { ok: true, values: {} };
    });
    if (!measured.ok) for (const t of targets) cells.set(t.route.name, measured);
  } finally {
    await Promise.all(running.map((r) => r.proc.stop()));
  }
  return cells;
}

/** A side-by-side workload on one target alone (the profile mode). */
function oneTarget(workload: SideBySide): (t: Target, b: Bench) => Promise<Cell> {
  return async (t, b) => (await inRounds([t], workload, b))[0] as Cell;
}

/** One workload through mitm (or `--peer`) under `node --cpu-prof`, then the top self-time functions and files. */
async function runProfile(workload: WorkloadName, all: readonly Peer[], originCa: string, state: string, bench: Bench): Promise<void> {
  const mitm = all.find((peer) => peer.name === profilePeer && !peer.missing);
  if (!mitm) throw new Error(`--peer=${profilePeer}: no such peer here (${all.map((peer) => peer.name).join(', ')})`);
  const dir = join(RESULTS, 'profile');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const running = await mitm.start(originCa, state, dir);
  const fromUs = monotonicUs();
  let toUs = 0;
  let cell: Cell;
  try {
    cell = await RUNNERS[workload]({ route: running.route, pid: running.proc.pid }, bench);
  } finally {
    toUs = monotonicUs();
    await running.proc.stop(10_000);
  }
  if (!cell.ok) throw new Error(`workload failed under the profiler: ${cell.error}`);
  // Only the samples taken while the workload ran: start-up (module loading, trust store) is left out.
  const summary = formatSummary(summarise(await newestProfile(dir), 20, { fromUs, toUs }));
  const text = [`${profilePeer} under --cpu-prof, ${workload} (with its warm-up): ${JSON.stringify(cell.values)}`, summary].join('\n');
  console.log(text);
  await writeFile(join(RESULTS, `profile-${workload}${profilePeer === 'mitm' ? '' : `-${profilePeer}`}.txt`), `${text}\n`);
}

async function attempt(fn: () => Promise<Cell>): Promise<Cell> {
  try {
    return await fn();
  } catch (error) {
    return { ok: false, values: {}, error: error instanceof Error ? error.message : String(error) };
  }
}

// The table (absolute figures and ratios against direct) and the issue's targets for mitm.
import type { ChartRow } from './chart.js';
import type { Cell } from './workloads.js';

/** The workloads by name, in run order. */
export const WORKLOADS = ['keepAlive', 'newHosts', 'download', 'slowReader', 'upload', 'idleTunnels', 'h2Streams', 'wsMessages'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];
/** route name → workload → outcome. */
export type Results = Record<string, Partial<Record<WorkloadName, Cell>>>;

interface Row {
  readonly label: string;
  readonly workload: WorkloadName;
  readonly key: string;
  /** Whether a ratio against direct means anything for this figure. */
  readonly ratio: boolean;
  /** A latency: the smaller figure is the better one. */
  readonly lowerIsBetter?: boolean;
}

/** The table's rows; `sizes` fills in the labels. */
export function rows(s: {
  keepAliveRequests: number;
  newHosts: number;
  downloadMiB: number;
  slowReaderSeconds: number;
  uploadMiB: number;
  idleTunnels: number;
  h2Requests: number;
  wsMessages: number;
}): Row[] {
  return [
    { label: `keep-alive: ${s.keepAliveRequests} × 1 KiB GET, 16 conns (req/s)`, workload: 'keepAlive', key: 'reqPerSec', ratio: true },
    {
      label: `new host by IP: first request p50, ${s.newHosts} hosts (ms)`,
      workload: 'newHosts',
      key: 'firstP50Ms',
      ratio: true,
      lowerIsBetter: true,
    },
    {
      label: 'new host by IP: second request p50, new conn (ms)',
      workload: 'newHosts',
      key: 'secondP50Ms',
      ratio: true,
      lowerIsBetter: true,
    },
    {
      label: `new host by name: first request p50, ${s.newHosts} hosts (ms)`,
      workload: 'newHosts',
      key: 'firstByNameP50Ms',
      ratio: true,
      lowerIsBetter: true,
    },
    {
      label: 'new host by name: second request p50, new conn (ms)',
      workload: 'newHosts',
      key: 'secondByNameP50Ms',
      ratio: true,
      lowerIsBetter: true,
    },
    { label: `download: ${s.downloadMiB} MiB, 1 conn (MiB/s)`, workload: 'download', key: 'mibPerSec', ratio: true },
    { label: 'download: proxy peak RSS (MiB)', workload: 'download', key: 'peakRssMiB', ratio: false },
    { label: 'download: peak RSS growth over idle (MiB, target ≤ 24)', workload: 'download', key: 'rssGrowthMiB', ratio: false },
    {
      label: `slow reader: 1 MiB/s for ${s.slowReaderSeconds} s of a ${s.downloadMiB} MiB body, peak RSS growth (MiB, target < 16)`,
      workload: 'slowReader',
      key: 'rssGrowthMiB',
      ratio: false,
    },
    { label: `upload: ${s.uploadMiB} MiB, 1 conn (MiB/s)`, workload: 'upload', key: 'mibPerSec', ratio: true },
    { label: `idle tunnels: ${s.idleTunnels}, RSS per tunnel (KiB)`, workload: 'idleTunnels', key: 'kibPerConn', ratio: false },
    { label: 'idle tunnels: RSS base→held→after close (MiB)', workload: 'idleTunnels', key: 'afterCloseMiB', ratio: false },
    { label: `h2: ${s.h2Requests} × 1 KiB GET, 100 streams (req/s)`, workload: 'h2Streams', key: 'reqPerSec', ratio: true },
    {
      label: `WebSocket: ${s.wsMessages} × 64 B echoed, 64 in flight (msg/s; target ≥ 0.85×, unrecorded ≥ 0.95×)`,
      workload: 'wsMessages',
      key: 'msgPerSec',
      ratio: true,
    },
  ];
}

function value(results: Results, route: string, workload: WorkloadName, key: string): number | undefined {
  const cell = results[route]?.[workload];
  return cell?.ok ? cell.values[key] : undefined;
}

function cellText(results: Results, route: string, row: Row): string {
  const cell = results[route]?.[row.workload];
  if (!cell) return '—';
  if (!cell.ok) return 'FAILED';
  const v = cell.values[row.key];
  if (row.key === 'afterCloseMiB' && cell.values.heldMiB !== undefined) {
    const heap = cell.values.heapKeptMiB === undefined ? '' : `, glibc heap +${cell.values.heapKeptMiB}`;
    const kept = cell.values.retainedPct === undefined ? '' : ` (${cell.values.retainedPct}% kept${heap})`;
    return `${cell.values.baseMiB}→${cell.values.heldMiB}→${v ?? '?'}${kept}`;
  }
  if (v === undefined) return cell.note?.startsWith('not measured') ? 'n/a (h1 only)' : '—';
  const direct = value(results, 'direct', row.workload, row.key);
  return row.ratio && direct && route !== 'direct' ? `${v} (${(v / direct).toFixed(2)}×)` : String(v);
}

/** The table as aligned text: one row per figure, one column per route. */
export function formatTable(results: Results, routes: readonly string[], tableRows: readonly Row[]): string {
  const header = ['', ...routes];
  const body = tableRows.map((row) => [row.label, ...routes.map((route) => cellText(results, route, row))]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => (line[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** The rows that have a ratio against direct, with every proxy's ratio, for the chart. */
export function chartRows(results: Results, routes: readonly string[], tableRows: readonly Row[]): ChartRow[] {
  return tableRows
    .filter((row) => row.ratio)
    .map((row) => {
      const direct = value(results, 'direct', row.workload, row.key);
      const measured = routes.filter((route) => route !== 'direct' && results[route]?.[row.workload] !== undefined);
      const ratios = new Map(
        measured.map((route) => {
          const v = value(results, route, row.workload, row.key);
          const why = results[route]?.[row.workload]?.ok === false ? 'failed' : direct ? 'not measured' : 'direct not measured';
          return [route, v !== undefined && direct ? v / direct : why] as const;
        }),
      );
      return { label: row.label, lowerIsBetter: row.lowerIsBetter === true, ratios };
    })
    .filter((row) => row.ratios.size > 0);
}

/** One of the issue's targets for mitm, evaluated. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  /** The same figure for the floor (tls-relay, or h2-relay for HTTP/2): what Node itself allows here. */
  readonly floor?: string;
}

// The route whose figures bound what any Node MITM proxy reaches on this machine.
const FLOOR = 'tls-relay';
// The same for HTTP/2: streams relayed by Node's http2 core API with no HTTP semantics (bench/lib/h2-relay.ts).
const H2_FLOOR = 'h2-relay';

/** The issue's targets, each with mitm's measured ratio or figure and whether it is met. */
export function checkTargets(results: Results): TargetCheck[] {
  const figure = (w: WorkloadName, key: string, route = 'mitm'): number | undefined => value(results, route, w, key);
  const ratio = (w: WorkloadName, key: string, against = 'direct', route = 'mitm'): number | undefined => {
    const a = figure(w, key, route);
    const b = value(results, against, w, key);
    return a !== undefined && b ? a / b : undefined;
  };
  const show = (x: number, unit: string): string => `${x.toFixed(unit === '×' ? 2 : 1)}${unit}`;
  const check = (
    target: string,
    x: number | undefined,
    ok: (x: number) => boolean,
    unit = '×',
    floor?: number,
    floorRoute = FLOOR,
  ): TargetCheck => ({
    target,
    measured: x === undefined ? 'not measured' : show(x, unit),
    met: x === undefined ? undefined : ok(x),
    ...(floor === undefined ? {} : { floor: `${floorRoute} ${show(floor, unit)}` }),
  });
  const returned = figure('idleTunnels', 'returned');
  const unrecorded = ratio('keepAlive', 'reqPerSec', 'mitm-unrecorded');
  const stored = ratio('keepAlive', 'reqPerSec', 'mitm-unrecorded', 'mitm-store');
  const inspected = ratio('keepAlive', 'reqPerSec', 'mitm-unrecorded', 'mitm-ui');
  return [
    check('keep-alive small requests ≥ 0.65× direct', ratio('keepAlive', 'reqPerSec'), (x) => x >= 0.65),
    check(
      'recording on costs ≤ 15% of keep-alive throughput',
      unrecorded === undefined ? undefined : (1 - unrecorded) * 100,
      (x) => x <= 15,
      '%',
    ),
    check(
      'recording to the store costs ≤ 15% of keep-alive throughput',
      stored === undefined ? undefined : (1 - stored) * 100,
      (x) => x <= 15,
      '%',
    ),
    check(
      'the web inspector open and live costs ≤ 15% of keep-alive throughput',
      inspected === undefined ? undefined : (1 - inspected) * 100,
      (x) => x <= 15,
      '%',
    ),
    check('keep-alive small requests ≥ 1.4× http-mitm-proxy', ratio('keepAlive', 'reqPerSec', 'http-mitm-proxy'), (x) => x >= 1.4),
    check('new host by name, first request p50 ≤ 2.5× direct', ratio('newHosts', 'firstByNameP50Ms'), (x) => x <= 2.5),
    check('new host by IP, first request p50 ≤ 3× direct', ratio('newHosts', 'firstP50Ms'), (x) => x <= 3),
    check('new host by IP, second request p50 ≤ 2× direct', ratio('newHosts', 'secondP50Ms'), (x) => x <= 2),
    check(
      '200 MiB download ≥ 0.8× direct',
      ratio('download', 'mibPerSec'),
      (x) => x >= 0.8,
      '×',
      ratio('download', 'mibPerSec', 'direct', FLOOR),
    ),
    check(
      '200 MiB download, peak RSS growth over idle ≤ 24 MiB',
      figure('download', 'rssGrowthMiB'),
      (x) => x <= 24,
      ' MiB',
      figure('download', 'rssGrowthMiB', FLOOR),
    ),
    check(
      'slow (1 MiB/s) reader, peak RSS growth over idle < 16 MiB',
      figure('slowReader', 'rssGrowthMiB'),
      (x) => x < 16,
      ' MiB',
      figure('slowReader', 'rssGrowthMiB', FLOOR),
    ),
    check(
      '100 MiB upload ≥ 0.9× direct',
      ratio('upload', 'mibPerSec'),
      (x) => x >= 0.9,
      '×',
      ratio('upload', 'mibPerSec', 'direct', FLOOR),
    ),
    check(
      'WebSocket echo, recording on ≥ 0.85× direct',
      ratio('wsMessages', 'msgPerSec'),
      (x) => x >= 0.85,
      '×',
      ratio('wsMessages', 'msgPerSec', 'direct', FLOOR),
    ),
    check(
      'WebSocket echo, recording off ≥ 0.95× direct',
      ratio('wsMessages', 'msgPerSec', 'direct', 'mitm-unrecorded'),
      (x) => x >= 0.95,
      '×',
      ratio('wsMessages', 'msgPerSec', 'direct', FLOOR),
    ),
    check(
      'HTTP/2, 1000 GETs over 100 streams ≥ 0.8× direct (issue #17)',
      ratio('h2Streams', 'reqPerSec'),
      (x) => x >= 0.8,
      '×',
      ratio('h2Streams', 'reqPerSec', 'direct', H2_FLOOR),
      H2_FLOOR,
    ),
    check('idle tunnels ≤ 40 KiB/conn', figure('idleTunnels', 'kibPerConn'), (x) => x <= 40, ' KiB'),
    {
      target: 'idle tunnels: memory returned after close (≤ 50% kept)',
      measured: returned === undefined ? 'not measured' : `${figure('idleTunnels', 'retainedPct')}% kept`,
      met: returned === undefined ? undefined : returned === 1,
    },
  ];
}

/** The targets as text lines, with tls-relay's figure beside those it bounds. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  const width = Math.max(...checks.map((c) => c.target.length));
  const verdict = (met: boolean | undefined): string => (met === undefined ? '?' : met ? 'met' : 'NOT MET');
  return checks
    .map((c) =>
      `${c.target.padEnd(width)}  ${c.measured.padStart(12)}  ${verdict(c.met).padEnd(7)}${c.floor ? `  (${c.floor})` : ''}`.trimEnd(),
    )
    .join('\n');
}

/**
 * Recording's cost round by round: each round runs the routes one after the other, so a round's
 * ratio compares figures taken seconds apart, and the spread of the rounds shows how much of a
 * difference is the machine's noise (the in-memory recorder's cost next to the store's).
 */
export function recordingRounds(results: Results): string[] {
  const base = results['mitm-unrecorded']?.keepAlive?.rounds;
  if (base === undefined || base.length === 0) return [];
  const lines = [`keep-alive req/s by round: mitm-unrecorded ${base.map((x) => x.toFixed(0)).join(', ')}`];
  for (const [route, label] of [
    ['mitm', 'recording in memory (mitm)'],
    ['mitm-store', 'recording to the store (mitm-store)'],
    ['mitm-ui', 'the inspector open and live (mitm-ui)'],
  ] as const) {
    const rounds = results[route]?.keepAlive?.rounds;
    if (rounds === undefined || rounds.length !== base.length) continue;
    const costs = rounds.map((x, i) => (1 - x / (base[i] as number)) * 100);
    lines.push(
      `${label}: req/s ${rounds.map((x) => x.toFixed(0)).join(', ')}; cost by round ${costs.map((c) => `${c.toFixed(1)}%`).join(', ')}`,
    );
  }
  return lines;
}

/** Notes and errors per route and workload, for under the table. */
export function formatNotes(results: Results): string[] {
  const notes: string[] = [];
  for (const [route, cells] of Object.entries(results)) {
    for (const [workload, cell] of Object.entries(cells)) {
      if (cell?.error) notes.push(`${route} ${workload}: FAILED: ${cell.error}`);
      else if (cell?.note) notes.push(`${route} ${workload}: ${cell.note}`);
    }
  }
  return notes;
}

// curl as the load generator: a C client, so the client is not the bottleneck. Every transfer
// reports its status, sizes, connections and time through -w, and each is checked.
import { writeFile } from 'node:fs/promises';
import { CLIENT_CPU, run } from './procs.js';

/** How a client reaches the origin: directly, or through a proxy whose CA it trusts. */
export interface Route {
  readonly name: string;
  /** `http://127.0.0.1:PORT`, absent for the direct route. */
  readonly proxy?: string;
  /** The CA the client trusts: the origin's (direct) or the proxy's. */
  readonly ca: string;
  /** Skip certificate checks for IP-literal hosts (a proxy whose leaves cannot name an IP). */
  readonly insecureIpHosts?: boolean;
  /** The proxy resolves the new host names (*.newhost.test); direct reaches them with curl --resolve. */
  readonly resolvesNewHostNames?: boolean;
}

/** One transfer as curl reports it. */
export interface Transfer {
  readonly status: number;
  readonly down: number;
  readonly up: number;
  readonly connects: number;
  readonly seconds: number;
  readonly httpVersion: string;
}

const FORMAT = '%{http_code} %{size_download} %{size_upload} %{num_connects} %{time_total} %{http_version}\\n';

/** Runs curl through `route` with `args` (URLs, -K, -Z…), bounded by `timeoutMs`. */
export async function curl(
  route: Route,
  args: readonly string[],
  timeoutMs: number,
  opts: { insecure?: boolean } = {},
): Promise<{ transfers: Transfer[]; ms: number; error?: string }> {
  const base = ['-q', '-sS', '--no-progress-meter', '--cacert', route.ca, '-w', FORMAT];
  if (route.proxy) base.push('--proxy', route.proxy);
  if (opts.insecure) base.push('-k');
  const result = await run('curl', [...base, ...args], CLIENT_CPU, timeoutMs);
  const transfers = result.stdout.split('\n').filter(Boolean).map(parseTransfer);
  const error = result.code === 0 ? undefined : `curl exited ${result.code}: ${result.stderr.trim().split('\n').slice(-2).join(' | ')}`;
  return { transfers, ms: result.ms, ...(error ? { error } : {}) };
}

function parseTransfer(line: string): Transfer {
  const [status, down, up, connects, seconds, httpVersion] = line.trim().split(' ');
  return {
    status: Number(status),
    down: Number(down),
    up: Number(up),
    connects: Number(connects),
    seconds: Number(seconds),
    httpVersion: httpVersion ?? '?',
  };
}

/** Writes a curl config with one `url` + `output` pair per URL (for -K with -Z). */
export async function writeUrlConfig(path: string, urls: readonly string[]): Promise<void> {
  await writeFile(path, urls.map((url) => `url = "${url}"\noutput = "/dev/null"\n`).join(''));
}

/**
 * Checks that curl ran `count` transfers, each with `status` and, where given, exactly `down`
 * bytes received and `version` spoken. Returns what went wrong, or undefined.
 */
export function verify(
  result: { transfers: readonly Transfer[]; error?: string },
  expected: { count: number; status?: number; down?: number; version?: string },
): string | undefined {
  if (result.error) return result.error;
  const { transfers } = result;
  if (transfers.length !== expected.count) return `${transfers.length} of ${expected.count} transfers reported`;
  const status = expected.status ?? 200;
  const bad = transfers.filter(
    (t) =>
      t.status !== status ||
      (expected.down !== undefined && t.down !== expected.down) ||
      (expected.version !== undefined && t.httpVersion !== expected.version),
  );
  if (bad.length === 0) return undefined;
  const first = bad[0];
  return `${bad.length} of ${transfers.length} transfers wrong (first: status ${first?.status}, ${first?.down} bytes, HTTP/${first?.httpVersion})`;
}

/** The median of `values` (0 when empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

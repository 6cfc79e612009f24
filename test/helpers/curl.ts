import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunOptions } from './run.js';

/** One curl transfer as the test sees it. */
export interface CurlResult {
  /** curl's exit code (0 on any HTTP status; 56 when a CONNECT was refused, 60 for an untrusted cert...). */
  readonly exitCode: number | null;
  /** Status of the last response (0 when none arrived). */
  readonly status: number;
  /** Status of the proxy's answer to CONNECT (0 when no CONNECT was sent). */
  readonly connectStatus: number;
  /** Headers of the last response, names lower-cased, repeated ones joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly text: string;
  readonly stderr: string;
}

/**
 * Runs `curl -q -sS <args>` (no ~/.curlrc, no proxy variables), capturing the headers of the last
 * response and the body through files, so bodies and CONNECT answers cannot be confused.
 */
export async function curl(args: readonly string[], options: RunOptions = {}): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mitm-test-curl-'));
  try {
    const headerFile = join(dir, 'headers');
    const bodyFile = join(dir, 'body');
    const result = await run(
      'curl',
      ['-q', '-sS', '-D', headerFile, '-o', bodyFile, '-w', '%{http_code} %{http_connect}', ...args],
      options,
    );
    const [status = '0', connectStatus = '0'] = result.stdout.toString('utf8').trim().split(' ');
    const body = await readFile(bodyFile).catch(() => Buffer.alloc(0));
    const headerText = await readFile(headerFile, 'utf8').catch(() => '');
    return {
      exitCode: result.code,
      status: Number(status),
      connectStatus: Number(connectStatus),
      headers: lastHeaderBlock(headerText),
      body,
      text: body.toString('utf8'),
      stderr: result.stderr,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `curl --proxy <proxyUrl> [--cacert <ca>] <args...>` */
export function curlVia(proxyUrl: string, args: readonly string[], cacert?: string): Promise<CurlResult> {
  return curl(['--proxy', proxyUrl, ...(cacert === undefined ? [] : ['--cacert', cacert]), ...args]);
}

/** Parses the last `HTTP/…` block of a `curl -D` dump (CONNECT and 1xx answers come before it). */
function lastHeaderBlock(dump: string): Record<string, string> {
  const blocks = dump.split(/\r?\n\r?\n/).filter((block) => block.startsWith('HTTP/'));
  const headers: Record<string, string> = {};
  for (const line of (blocks.at(-1) ?? '').split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { described, flag, integer, nonEmpty, ProxyOptionsSchema } from '../config/schema.js';
import { initCa } from '../ca/authority.js';
import { startProxy } from '../proxy/start.js';
import { FilterError } from '../record/filter/filter.js';
import { replay, type ReplayResult } from '../record/replay.js';
import type { StoredFlow } from '../record/store/types.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { printable } from './output/flow-log.js';
import { openExisting } from './flows.js';
import { writeLine, type Io } from './output/io.js';
import { splitPositionals } from './positionals.js';

const ReplayOptionsSchema = z.strictObject({
  store: described(nonEmpty(), { arg: 'FILE', description: 'The store whose requests are sent again; the new flows are added to it' }),
  through: described(z.optional(z.url()), {
    arg: 'PROXY_URL',
    description: 'Send through this running proxy (trusting --ca) instead of one started here; it records the new flows',
  }),
  concurrency: described(z._default(integer(z.positive()), 1), {
    arg: 'N',
    description: 'Requests in flight at once (1: in recorded order)',
  }),
  limit: described(z.optional(integer(z.positive())), { arg: 'N', description: 'At most N requests' }),
  expectSame: described(flag(), { description: 'Exit 1 when any status or response body differs from the recording' }),
  ca: ProxyOptionsSchema.shape.ca,
  upstreamCa: ProxyOptionsSchema.shape.upstreamCa,
  insecure: ProxyOptionsSchema.shape.insecure,
});

/** One line for the command list of `mitm --help`. */
export const REPLAY_SUMMARY = 'Send the recorded requests of a store again and compare the answers';

/** The `--help` page of `mitm replay`. */
export function replayHelp(): string {
  return formatHelp(
    'mitm replay --store FILE [options] [FILTER]',
    [
      `${REPLAY_SUMMARY}.`,
      'Sends each matching request (method, URL, headers, body) again through a proxy started',
      'here with --ca that records the new flows into the same --store, or through --through;',
      'prints the status and whether the response body changed. WebSocket flows and requests',
      'whose recorded body was cut are not sent.',
    ].join('\n'),
    ReplayOptionsSchema,
  );
}

/** Runs `mitm replay`. */
export async function runReplay(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positionals } = splitPositionals(ReplayOptionsSchema, argv);
  const parsed = parseFlags(ReplayOptionsSchema, flags);
  if (parsed.help) {
    io.stdout.write(replayHelp());
    return 0;
  }
  const options = parsed.options;
  const filter = positionals.join(' ');
  const flows = await recorded(options.store, filter, options.limit);
  const onResult = (result: ReplayResult): void => writeLine(io.stdout, resultLine(result));
  let results: ReplayResult[];
  if (options.through !== undefined) {
    const ca = await readFile(join(options.ca, 'ca.pem'), 'utf8');
    results = await replay(flows, { through: options.through, ca, concurrency: options.concurrency, onResult });
  } else {
    await initCa(options.ca);
    const proxy = await startProxy({
      port: 0,
      ca: options.ca,
      store: options.store,
      upstreamCa: options.upstreamCa,
      insecure: options.insecure,
    });
    proxy.on('store-error', (record) => writeLine(io.stderr, printable(`mitm: ${record.message}`)));
    try {
      results = await replay(flows, { through: proxy.url, ca: proxy.caCertPem, concurrency: options.concurrency, onResult });
    } finally {
      await proxy.close();
    }
  }
  const different = results.filter((result) => !result.same).length;
  writeLine(io.stderr, `replayed ${results.length} requests: ${results.length - different} same, ${different} different`);
  return options.expectSame && different > 0 ? 1 : 0;
}

async function recorded(file: string, filter: string, limit: number | undefined): Promise<StoredFlow[]> {
  const store = await openExisting(file);
  try {
    return store.query(filter, { limit });
  } catch (error) {
    if (error instanceof FilterError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

/**
 * `GET https://api.test/x 200 → 200 body unchanged`, or `… 200 → 500 body changed`, or
 * `… 200 → failed (reason)`; a proxy's own error answer is named: `… 200 → 502 (upstream_tls: …) body changed`.
 */
export function resultLine(result: ReplayResult): string {
  const { flow } = result;
  const before = flow.status === undefined ? '---' : String(flow.status);
  const head = `${flow.method} ${flow.url} ${before} →`;
  if (result.status === undefined) return printable(`${head} failed (${result.error ?? 'no response'})`);
  const body = result.bodyChanged === undefined ? 'body not compared' : result.bodyChanged ? 'body changed' : 'body unchanged';
  const proxy = result.proxyError === undefined ? '' : ` (${result.proxyError})`;
  return printable(`${head} ${result.status}${proxy} ${body}${result.same ? '' : ' DIFFERENT'}`);
}

import * as z from 'zod/mini';
import { CliOptionsSchema, described, integer, nonEmpty } from '../config/schema.js';
import { FilterError } from '../record/filter/filter.js';
import { followStore, lastStoredId, openStoreWhenReady } from '../record/store/follow-store.js';
import type { FlowRow, StoredFlow } from '../record/store/types.js';
import { whereFilter } from '../record/store/where-filter.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { printable, writeFlow } from './output/flow-log.js';
import { recordOfStored } from './output/flows-format.js';
import { writeLine, type Io } from './output/io.js';
import { storedFlowDetail } from './output/stored-detail.js';
import { PLAIN, styleFor } from './output/term-style.js';
import { splitPositionals } from './positionals.js';

const TailOptionsSchema = z.strictObject({
  store: described(nonEmpty(), {
    arg: 'FILE',
    description: 'The store a running proxy writes (mitm start --store FILE), read-only; waited for while it does not exist',
  }),
  last: described(z._default(integer(z.nonnegative()), 0), {
    arg: 'N',
    description: 'First print the last N matching flows already stored (0: only flows written from now on)',
  }),
  flowDetail: CliOptionsSchema.shape.flowDetail,
  detailBodyLimit: CliOptionsSchema.shape.detailBodyLimit,
  logFormat: CliOptionsSchema.shape.logFormat,
});

/** One line for the command list of `mitm --help`. */
export const TAIL_SUMMARY = 'Print the flows a running proxy writes to a store, as they are written (--store FILE [FILTER])';

/** The `--help` page of `mitm tail` (and `mitm flows --follow`). */
export function tailHelp(): string {
  return formatHelp(
    'mitm tail --store FILE [options] [FILTER]\n       mitm flows --follow --store FILE [options] [FILTER]',
    [
      `${TAIL_SUMMARY}.`,
      'The lines are those the proxy prints (--flow-detail, --log-format json as on mitm start);',
      'FILTER is the filter language of docs/filters.md. It starts at the end of the store (--last N',
      'prints the last N first), waits for the file when no proxy has created it yet, and stops on',
      'Ctrl-C. See docs/store.md ("Following a store").',
    ].join('\n'),
    TailOptionsSchema,
  );
}

/** Runs `mitm tail` / `mitm flows --follow` until SIGINT or SIGTERM; exits 0 then. */
export async function runTail(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positionals } = splitPositionals(TailOptionsSchema, argv);
  const parsed = parseFlags(TailOptionsSchema, flags);
  if (parsed.help) {
    io.stdout.write(tailHelp());
    return 0;
  }
  const { store: file, last, flowDetail: level, detailBodyLimit, logFormat } = parsed.options;
  const where = compileWhere(positionals.join(' '));
  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const store = await openStoreWhenReady(file, {
      signal: stopped.signal,
      onWaiting: () => writeLine(io.stderr, `mitm tail: waiting for ${file} to be created (by mitm start --store ${file})`),
    });
    if (store === undefined) return 0;
    const json = logFormat === 'json';
    const style = json ? PLAIN : styleFor(io.stdout);
    const print = (flows: readonly StoredFlow[]): void => {
      if (level === 0) return;
      for (const head of flows) {
        // Bodies one flow at a time, and only for the levels that print them.
        const flow = level >= 3 ? (store.get(head.id) ?? head) : head;
        writeFlow(io, recordOfStored(flow), storedFlowDetail(flow, level, detailBodyLimit), { json, level, style });
      }
    };
    let lastError = '';
    const report = (error: unknown): void => {
      const message = error instanceof Error ? error.message : String(error);
      // The poll would repeat a lasting failure every second; once is enough.
      if (message !== lastError) writeLine(io.stderr, `mitm tail: ${printable(message)}`);
      lastError = message;
    };
    try {
      const after = lastStoredId(store);
      if (last > 0) {
        const older = (row: FlowRow): boolean => row.id <= after && (where === undefined || where(row));
        print(store.query({ where: older, order: 'desc', limit: last, bodies: false }).reverse());
      }
      const follower = followStore(store, { after, where, onFlows: print, onError: report });
      writeLine(io.stderr, `mitm tail: following ${store.file} after flow ${after}; Ctrl-C stops`);
      await new Promise<void>((resolve) => stopped.signal.addEventListener('abort', () => resolve(), { once: true }));
      follower.close();
      return 0;
    } finally {
      await store.close();
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function compileWhere(filter: string): ((row: FlowRow) => boolean) | undefined {
  if (filter.trim() === '') return undefined;
  try {
    return whereFilter(filter);
  } catch (error) {
    if (error instanceof FilterError) throw new UsageError(error.message);
    throw error;
  }
}

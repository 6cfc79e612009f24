import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import { described, flag, integer, nonEmpty } from '../config/schema.js';
import { isMitmError, MitmError } from '../errors.js';
import { curlCommand } from '../record/curl-command.js';
import { FilterError } from '../record/filter/filter.js';
import { harCreator } from '../record/har-creator.js';
import { importHar } from '../record/har-import.js';
import { storedToHar } from '../record/har-stored.js';
import { openStore, type SessionStore } from '../record/store/open-store.js';
import type { StoredFlow } from '../record/store/types.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { flowJson, tableLine } from './output/flows-format.js';
import { printable } from './output/flow-log.js';
import { writeLine, type Io } from './output/io.js';
import { splitPositionals } from './positionals.js';
import { runTail } from './tail.js';

const FlowsOptionsSchema = z.strictObject({
  store: described(nonEmpty(), { arg: 'FILE', description: 'The store to read (written by mitm start --store)' }),
  limit: described(z.optional(integer(z.positive())), { arg: 'N', description: 'At most N flows' }),
  order: described(z._default(z.enum(['asc', 'desc']), 'asc'), { arg: 'ORDER', description: 'Oldest first (asc) or newest first (desc)' }),
  format: described(z._default(z.enum(['table', 'json', 'jsonl', 'har', 'curl']), 'table'), {
    arg: 'FORMAT',
    description: 'table (the live log line), json, jsonl, har (HAR 1.2) or curl (runnable commands)',
  }),
  follow: described(flag(), {
    description: 'Keep printing the flows a running proxy writes, as mitm tail does (its options: mitm tail --help)',
  }),
});

const ImportOptionsSchema = z.strictObject({
  store: described(nonEmpty(), { arg: 'FILE', description: 'The store to add the entries to (created when missing)' }),
});

/** One line for the command list of `mitm --help`. */
export const FLOWS_SUMMARY = 'List, export or import the flows of a store (--store FILE [FILTER])';

/** The `--help` page of `mitm flows`. */
export function flowsHelp(): string {
  return formatHelp(
    'mitm flows --store FILE [options] [FILTER]\n       mitm flows import FILE.har --store FILE',
    [
      `${FLOWS_SUMMARY}.`,
      'FILTER is the filter language of docs/filters.md (host:api.test status:5xx ...); put it',
      'after -- when it starts with - (mitm flows --store f.db -- -status:2xx).',
      '`import` adds the entries of a HAR file (ours, Chrome DevTools, Firefox, mitmproxy) to the store.',
      '--follow prints new flows as a running proxy writes them: the same as mitm tail.',
    ].join('\n'),
    FlowsOptionsSchema,
  );
}

/** Runs `mitm flows …` and `mitm flows import …`. */
export async function runFlows(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === 'import') return runImport(argv.slice(1), io);
  const end = argv.indexOf('--');
  const follow = argv.findIndex((word, at) => word === '--follow' && (end < 0 || at < end));
  if (follow >= 0) return runTail(argv.toSpliced(follow, 1), io);
  const { flags, positionals } = splitPositionals(FlowsOptionsSchema, argv);
  const parsed = parseFlags(FlowsOptionsSchema, flags);
  if (parsed.help) {
    io.stdout.write(flowsHelp());
    return 0;
  }
  const { store: file, limit, order, format } = parsed.options;
  const store = await openExisting(file);
  let flows: StoredFlow[];
  try {
    flows = store.query(positionals.join(' '), { limit, order, bodies: format !== 'table' });
  } catch (error) {
    if (error instanceof FilterError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
  write(flows, format, io);
  return 0;
}

function write(flows: readonly StoredFlow[], format: z.output<typeof FlowsOptionsSchema>['format'], io: Io): void {
  switch (format) {
    case 'table':
      for (const flow of flows) writeLine(io.stdout, tableLine(flow));
      return;
    case 'json':
      writeLine(io.stdout, JSON.stringify(flows.map(flowJson), null, 2));
      return;
    case 'jsonl':
      for (const flow of flows) writeLine(io.stdout, JSON.stringify(flowJson(flow)));
      return;
    case 'har':
      writeLine(io.stdout, JSON.stringify(storedToHar(flows, harCreator()), null, 2));
      return;
    case 'curl':
      for (const flow of flows) writeLine(io.stdout, `# ${flow.id}: ${printable(`${flow.method} ${flow.url}`)}\n${curlCommand(flow)}\n`);
      return;
  }
}

async function runImport(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positionals } = splitPositionals(ImportOptionsSchema, argv);
  const parsed = parseFlags(ImportOptionsSchema, flags);
  if (parsed.help) {
    io.stdout.write(flowsHelp());
    return 0;
  }
  const [harFile, ...extra] = positionals;
  if (harFile === undefined) throw new UsageError('missing the HAR file, as in mitm flows import run.har --store flows.db');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  let text: string;
  try {
    text = await readFile(harFile, 'utf8');
  } catch (error) {
    throw new MitmError('config_invalid', `cannot read ${resolve(harFile)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const store = await openStore(parsed.options.store);
  try {
    const count = await importHar(store, text, resolve(harFile));
    writeLine(io.stderr, `imported ${count} flows from ${harFile} into ${store.file}`);
  } finally {
    await store.close();
  }
  return 0;
}

/** Opens a store that must exist already (reading never creates one), read-only. */
export async function openExisting(file: string): Promise<SessionStore> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) throw new MitmError('store_failed', `no store at ${resolve(file)}`);
  try {
    return await openStore(file, { readonly: true });
  } catch (error) {
    if (isMitmError(error)) throw error;
    throw new MitmError('store_failed', `cannot open the store ${resolve(file)}: ${String(error)}`, { cause: error });
  }
}

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { described, list, nonEmpty } from '../config/schema.js';
import { MitmError } from '../errors.js';
import { FilterError } from '../record/filter/filter.js';
import { importHar } from '../record/har-import.js';
import { exportMocks, type MockExport } from '../record/mocks/export-mocks.js';
import { MOCK_FILES, mocksJson, mocksModule } from '../record/mocks/mock-module.js';
import { openStore, type SessionStore } from '../record/store/open-store.js';
import type { StoredFlow } from '../record/store/types.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { openExisting } from './flows.js';
import { writeLine, type Io } from './output/io.js';
import { splitPositionals } from './positionals.js';

const ExportOptionsSchema = z.strictObject({
  store: described(z.optional(nonEmpty()), { arg: 'FILE', description: 'The store whose flows become mocks (or --har)' }),
  har: described(z.optional(nonEmpty()), { arg: 'FILE', description: 'A HAR file to read instead of a store' }),
  out: described(nonEmpty(), {
    arg: 'DIR',
    description: `The folder to write ${MOCK_FILES.module} and ${MOCK_FILES.json} into (created when missing)`,
  }),
  redact: described(list(nonEmpty()), {
    arg: 'PATTERN',
    description: 'Also redact headers, query parameters and JSON fields whose names match this RegExp (repeatable)',
  }),
});

/** One line for the command list of `mitm --help`. */
export const MOCKS_SUMMARY = 'Turn recorded flows into typed mock rules for mockServer (export --store FILE [FILTER] --out DIR)';

/** The `--help` page of `mitm mocks export`. */
export function mocksHelp(): string {
  return formatHelp(
    'mitm mocks export --store FILE [FILTER] --out DIR [--redact PATTERN]...',
    [
      `${MOCKS_SUMMARY}.`,
      `Writes DIR/${MOCK_FILES.module} (a response type per endpoint, the rules as its default export) and`,
      `DIR/${MOCK_FILES.json} (the rules): one rule per method and path template (/users/:id), usable as`,
      'mockServer({ rules: mocks }). Secrets (Authorization, Cookie, Set-Cookie, and fields named like',
      'token|secret|password|passwd|api[-_]?key|session|auth) become <redacted:NAME:N>, wherever their',
      'values appear; what was redacted is printed as counts. FILTER: docs/filters.md. See docs/mocks.md.',
    ].join('\n'),
    ExportOptionsSchema,
  );
}

/** Runs `mitm mocks export …`. */
export async function runMocks(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(mocksHelp());
    return 0;
  }
  if (sub !== 'export')
    throw new UsageError(
      sub === undefined
        ? 'missing the subcommand: mitm mocks export --store FILE --out DIR'
        : `unknown subcommand ${JSON.stringify(sub)} of mitm mocks (expected export)`,
    );
  const { flags, positionals } = splitPositionals(ExportOptionsSchema, rest);
  const parsed = parseFlags(ExportOptionsSchema, flags);
  if (parsed.help) {
    io.stdout.write(mocksHelp());
    return 0;
  }
  const { store: file, har, out, redact } = parsed.options;
  if ((file === undefined) === (har === undefined)) throw new UsageError('give one of --store FILE or --har FILE');
  const patterns = redact.map(compilePattern);
  const filter = positionals.join(' ');
  const run = (store: SessionStore): Promise<void> => exportTo(store, filter, patterns, out, basename(file ?? har ?? ''), io);
  if (file !== undefined) await withStore(await openExisting(file), run);
  else await fromHar(har as string, run);
  return 0;
}

/** Exports the flows of `store` that `filter` matches into `out`, and prints the summary. */
async function exportTo(
  store: SessionStore,
  filter: string,
  patterns: readonly RegExp[],
  out: string,
  source: string,
  io: Io,
): Promise<void> {
  // Heads only first; then each flow is read whole once per pass, so memory holds one flow at a time.
  let ids: number[];
  try {
    ids = store.query(filter, { bodies: false }).map((flow) => flow.id);
  } catch (error) {
    if (error instanceof FilterError) throw new UsageError(error.message);
    throw error;
  }
  const flows = function* (): Generator<StoredFlow> {
    for (const id of ids) {
      const flow = store.get(id);
      if (flow !== undefined) yield flow;
    }
  };
  const exported = exportMocks(flows, patterns);
  const dir = resolve(out);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, MOCK_FILES.json), mocksJson(exported));
    await writeFile(join(dir, MOCK_FILES.module), mocksModule(exported, source));
  } catch (error) {
    throw new MitmError(
      'config_invalid',
      `--out ${dir}: cannot write the mocks (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  for (const line of summary(exported, join(out, MOCK_FILES.module), ids.length)) writeLine(io.stderr, line);
}

/** What the export did, values never shown: rules written, flows left out, secrets redacted by name. */
function summary(exported: MockExport, file: string, matched: number): string[] {
  const lines = [
    `exported ${exported.endpoints.length} mock rules from ${exported.flows} of ${matched} flows to ${file} (and ${MOCK_FILES.json})`,
  ];
  if (exported.skipped.length > 0) lines.push(`left out: ${exported.skipped.map(([reason, count]) => `${count} ${reason}`).join(', ')}`);
  const { byName, echoes } = exported.redactions;
  lines.push(
    byName.length === 0
      ? 'redacted: nothing'
      : `redacted: ${byName.map(([name, count]) => `${name} ×${count}`).join(', ')}; ${echoes} other occurrence${echoes === 1 ? '' : 's'} of those values`,
  );
  return lines;
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch (error) {
    throw new UsageError(`--redact ${JSON.stringify(pattern)}: not a regular expression (${(error as Error).message})`);
  }
}

async function withStore(store: SessionStore, use: (store: SessionStore) => Promise<void>): Promise<void> {
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

/** A HAR is read through a throwaway store, so the filter and the bodies work as for a store. */
async function fromHar(file: string, use: (store: SessionStore) => Promise<void>): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MitmError('config_invalid', `--har: cannot read ${resolve(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'mitm-mocks-'));
  try {
    await withStore(await openStore(join(dir, 'har.db')), async (store) => {
      await importHar(store, text, resolve(file));
      await use(store);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

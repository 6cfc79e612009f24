import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MitmError } from '../errors.js';
import { registerMitmAlias } from './mitm-alias.js';
import type { Hook } from './types.js';

const PHASES = [
  'onConnect',
  'onRequest',
  'onResponse',
  'onServerSentEvent',
  'onWebSocketMessage',
  'onError',
  'onFlowEnd',
] as const satisfies ReadonlyArray<keyof Hook>;
// Fails to compile when Hook gains a phase this list lacks, so file validation keeps up.
const EVERY_PHASE_LISTED: Exclude<keyof Hook, 'name' | (typeof PHASES)[number]> extends never ? true : never = true;
void EVERY_PHASE_LISTED;
const JAVASCRIPT = new Set(['.mjs', '.js', '.cjs']);
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/**
 * Imports a hook module (`--hook FILE`): `.mjs`/`.js`/`.cjs` natively, `.ts`/`.mts`/`.cts` through
 * tsx, with `file` resolved against `cwd`. Its default export must be a hook or a non-empty array
 * of hooks. Any failure (missing file, a throw or syntax error at import, a bad export) becomes a
 * `hook_load_failed` error naming the file.
 */
export async function loadHookFile(file: string, cwd: string = process.cwd()): Promise<Hook[]> {
  const absolute = path.resolve(cwd, file);
  const fail = (reason: string, cause?: unknown): MitmError =>
    new MitmError('hook_load_failed', `cannot load hook file ${absolute}: ${reason}`, { cause });
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw fail(info ? 'not a file' : 'no such file');
  const extension = path.extname(absolute).toLowerCase();
  if (!JAVASCRIPT.has(extension) && !TYPESCRIPT.has(extension)) {
    throw fail(`unsupported extension ${JSON.stringify(extension)} (use .mjs, .js, .cjs, .ts, .mts or .cts)`);
  }

  await registerMitmAlias();
  let namespace: unknown;
  try {
    namespace = await importModule(pathToFileURL(absolute).href, TYPESCRIPT.has(extension));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // esbuild's syntax errors name FILE:LINE:COLUMN; Node's own (a .mjs/.js file) name no place, so it is looked up.
    // syntax-location.ts runs a child node: loaded only for a syntax error (node:child_process is not start-up's business).
    const at =
      error instanceof SyntaxError && !TYPESCRIPT.has(extension)
        ? await (await import('./syntax-location.js')).syntaxErrorLocation(absolute)
        : undefined;
    const where = at === undefined ? '' : `${absolute}:${at.line}:${at.column}: SyntaxError: `;
    // esbuild's syntax errors span lines; the CLI prints one line per problem.
    throw fail(`it failed to import: ${where}${message.replace(/\s*\n\s*/g, ' ')}`, error);
  }
  const exported = defaultExport(namespace);
  if (exported === undefined) throw fail('it has no default export (export default a hook or an array of hooks)');
  const hooks: unknown[] = Array.isArray(exported) ? exported : [exported];
  if (hooks.length === 0) throw fail('its default export is an empty array: it exports no hook');
  hooks.forEach((hook, index) => {
    const problem = hookProblem(hook);
    if (problem !== undefined)
      throw fail(Array.isArray(exported) ? `hook #${index + 1} of its default export ${problem}` : `its default export ${problem}`);
  });
  return hooks as Hook[];
}

async function importModule(url: string, typescript: boolean): Promise<unknown> {
  if (!typescript) return (await import(url)) as unknown;
  // Loaded only when a .ts hook is asked for: tsx (esbuild) is heavy, and most runs need neither,
  // so it is an optional peer dependency rather than one every install pulls in.
  let api: typeof import('tsx/esm/api');
  try {
    api = await import('tsx/esm/api');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error('a .ts hook needs tsx, which is not installed: run `npm install tsx`, or compile the hook to .js/.mjs', {
      cause: error,
    });
  }
  return (await api.tsImport(url, { parentURL: import.meta.url })) as unknown;
}

/**
 * The module's default export. A `.ts` file outside a `"type": "module"` package is compiled to
 * CommonJS by tsx, and its `export default` then arrives one level down, marked `__esModule`.
 */
function defaultExport(namespace: unknown): unknown {
  if (!isObject(namespace)) return undefined;
  const exported = namespace.default;
  if (isObject(exported) && exported.__esModule === true && 'default' in exported) return exported.default;
  return exported;
}

/** Why `value` is not a hook, or undefined when it is one. */
function hookProblem(value: unknown): string | undefined {
  if (typeof value === 'function')
    return 'is a function, not a hook: export default what it returns, e.g. export default setHeaders({...})';
  if (!isObject(value) || Array.isArray(value)) return 'is not a hook object ({ name, onRequest?, ... })';
  const name = value.name;
  if (typeof name !== 'string' || name === '') return 'has no non-empty string "name"';
  const bad = PHASES.find((phase) => value[phase] !== undefined && typeof value[phase] !== 'function');
  if (bad !== undefined) return `("${name}") has a ${bad} that is not a function`;
  if (!PHASES.some((phase) => typeof value[phase] === 'function')) return `("${name}") implements no phase (${PHASES.join(', ')})`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

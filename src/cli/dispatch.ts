// What `mitm` does with its arguments: one command's module loaded and run, help, version and errors.
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { isMitmError } from '../errors.js';
import { packageJsonPath } from '../package-files.js';
import { UsageError } from './flags.js';
import { printable } from './output/flow-log.js';
import { writeLine, type Io } from './output/io.js';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

// Each command's module is loaded only when it runs: `mitm start` does not pay for the store,
// HAR import or the inspector's CLI at start-up (docs/performance.md, "Start-up").
const COMMANDS: Readonly<Record<string, () => Promise<{ readonly run: Command; readonly summary: string }>>> = {
  start: async () => import('./start.js').then((m) => ({ run: m.runStart, summary: m.START_SUMMARY })),
  run: async () => import('./run.js').then((m) => ({ run: m.runRun, summary: m.RUN_SUMMARY })),
  env: async () => import('./env.js').then((m) => ({ run: m.runEnv, summary: m.ENV_SUMMARY })),
  browser: async () => import('./browser.js').then((m) => ({ run: m.runBrowser, summary: m.BROWSER_SUMMARY })),
  flows: async () => import('./flows.js').then((m) => ({ run: m.runFlows, summary: m.FLOWS_SUMMARY })),
  mocks: async () => import('./mocks.js').then((m) => ({ run: m.runMocks, summary: m.MOCKS_SUMMARY })),
  tail: async () => import('./tail.js').then((m) => ({ run: m.runTail, summary: m.TAIL_SUMMARY })),
  replay: async () => import('./replay.js').then((m) => ({ run: m.runReplay, summary: m.REPLAY_SUMMARY })),
  ui: async () => import('./ui.js').then((m) => ({ run: m.runUi, summary: m.UI_SUMMARY })),
  // `ca` lists its subcommands in the help page instead of one summary.
  ca: async () => import('./ca.js').then((m) => ({ run: m.runCa, summary: '' })),
};

/** The `mitm --help` page. */
async function topHelp(): Promise<string> {
  const rows: Array<readonly [string, string]> = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    if (name !== 'ca') rows.push([name, (await load()).summary]);
  }
  rows.push(...(await import('./ca.js')).caSummaries());
  const width = Math.max(...rows.map(([name]) => name.length));
  const commands = rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`).join('\n');
  return [
    'Usage: mitm <command> [options]',
    '',
    'A man-in-the-middle HTTPS proxy for debugging apps and for QA harnesses.',
    '',
    'Commands:',
    commands,
    '',
    'Options:',
    "  -h, --help     Show this help; mitm <command> --help shows a command's options",
    '  -v, --version  Print the version',
    '',
  ].join('\n');
}

/** The package version, from its package.json. */
function version(): string {
  const text = readFileSync(packageJsonPath(), 'utf8');
  return z.parse(z.object({ version: z.string() }), JSON.parse(text)).version;
}

/** Dispatches `argv` (without node and the script) to a command and returns the exit code. */
async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr.write(await topHelp());
        return 2;
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(await topHelp());
        return 0;
      case '-v':
      case '--version':
        writeLine(io.stdout, version());
        return 0;
      default: {
        const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
        if (load !== undefined) return await (await load()).run(rest, io);
        throw new UsageError(
          command.startsWith('-')
            ? `options follow a command, as in mitm start ${argv.join(' ')}`
            : `unknown command ${JSON.stringify(command)}`,
        );
      }
    }
  } catch (error) {
    return await report(error, argv, io);
  }
}

/** Prints a failure the way a person wants to read it and picks the exit code: 2 usage, 1 runtime. */
async function report(error: unknown, argv: readonly string[], io: Io): Promise<number> {
  if (error instanceof UsageError) {
    writeLine(io.stderr, `mitm: ${printable(error.message)}`);
    writeLine(io.stderr, `run ${await helpCommand(argv)} for usage`);
    return 2;
  }
  // A MitmError's message is written for users; its stack would only bury it.
  const message = error instanceof Error ? error.message : String(error);
  writeLine(io.stderr, `mitm: ${printable(message)}`);
  if (process.env.DEBUG && error instanceof Error) {
    writeLine(io.stderr, error.stack ?? '');
    const cause = error.cause instanceof Error ? error.cause.stack : error.cause;
    if (cause !== undefined) writeLine(io.stderr, `cause: ${String(cause)}`);
  } else if (!isMitmError(error)) {
    writeLine(io.stderr, 'set DEBUG=1 for a stack trace');
  }
  return 1;
}

/** The help command closest to what was typed: `mitm ca export --help`, `mitm start --help`, `mitm --help`. */
async function helpCommand(argv: readonly string[]): Promise<string> {
  const [command, sub] = argv;
  if (['start', 'run', 'env', 'browser', 'flows', 'tail', 'replay', 'ui'].includes(command ?? '')) return `mitm ${command} --help`;
  if (command === 'mocks') return 'mitm mocks export --help';
  if (command === 'ca') return (await import('./ca.js')).isCaSubcommand(sub) ? `mitm ca ${sub} --help` : 'mitm ca --help';
  return 'mitm --help';
}

// `mitm start | head` closes our stdout early; that is the reader's choice, not a crash to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
// `mitm run` is done once its command has ended and the proxy is closed. What may be left on the
// event loop is the proxy's warm-up (undici's chunk loading: ~100 ms of a `mitm run -- true`,
// docs/performance.md, "Start-up"), which only a next request would need: exit once our output is out.
if (process.argv[2] === 'run') await exitWhenFlushed();

/** Exits with process.exitCode once everything written to stdout and stderr has been handed to the OS. */
async function exitWhenFlushed(): Promise<never> {
  await Promise.all(
    [process.stdout, process.stderr].map(async (stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
  );
  process.exit();
}

#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isMitmError } from '../errors.js';
import { BROWSER_SUMMARY, runBrowser } from './browser.js';
import { caSummaries, isCaSubcommand, runCa } from './ca.js';
import { ENV_SUMMARY, runEnv } from './env.js';
import { FLOWS_SUMMARY, runFlows } from './flows.js';
import { MOCKS_SUMMARY, runMocks } from './mocks.js';
import { REPLAY_SUMMARY, runReplay } from './replay.js';
import { RUN_SUMMARY, runRun } from './run.js';
import { runStart, START_SUMMARY } from './start.js';
import { runUi, UI_SUMMARY } from './ui.js';
import { UsageError } from './flags.js';
import { printable } from './output/flow-log.js';
import { writeLine, type Io } from './output/io.js';

/** The `mitm --help` page. */
function topHelp(): string {
  const rows: Array<readonly [string, string]> = [
    ['start', START_SUMMARY],
    ['run', RUN_SUMMARY],
    ['env', ENV_SUMMARY],
    ['browser', BROWSER_SUMMARY],
    ['flows', FLOWS_SUMMARY],
    ['replay', REPLAY_SUMMARY],
    ['mocks', MOCKS_SUMMARY],
    ['ui', UI_SUMMARY],
    ...caSummaries(),
  ];
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

/** The package version; package.json is two levels up from both src/cli/main.ts and dist/cli/main.js. */
function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return z.object({ version: z.string() }).parse(JSON.parse(text)).version;
}

/** Dispatches `argv` (without node and the script) to a command and returns the exit code. */
async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr.write(topHelp());
        return 2;
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(topHelp());
        return 0;
      case '-v':
      case '--version':
        writeLine(io.stdout, version());
        return 0;
      case 'start':
        return await runStart(rest, io);
      case 'run':
        return await runRun(rest, io);
      case 'env':
        return await runEnv(rest, io);
      case 'browser':
        return await runBrowser(rest, io);
      case 'ca':
        return await runCa(rest, io);
      case 'flows':
        return await runFlows(rest, io);
      case 'replay':
        return await runReplay(rest, io);
      case 'mocks':
        return await runMocks(rest, io);
      case 'ui':
        return await runUi(rest, io);
      default:
        throw new UsageError(
          command.startsWith('-')
            ? `options follow a command, as in mitm start ${argv.join(' ')}`
            : `unknown command ${JSON.stringify(command)}`,
        );
    }
  } catch (error) {
    return report(error, argv, io);
  }
}

/** Prints a failure the way a person wants to read it and picks the exit code: 2 usage, 1 runtime. */
function report(error: unknown, argv: readonly string[], io: Io): number {
  if (error instanceof UsageError) {
    writeLine(io.stderr, `mitm: ${printable(error.message)}`);
    writeLine(io.stderr, `run ${helpCommand(argv)} for usage`);
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
function helpCommand(argv: readonly string[]): string {
  const [command, sub] = argv;
  if (['start', 'run', 'env', 'browser', 'flows', 'replay'].includes(command ?? '')) return `mitm ${command} --help`;
  if (command === 'mocks') return 'mitm mocks export --help';
  if (command === 'ca') return isCaSubcommand(sub) ? `mitm ca ${sub} --help` : 'mitm ca --help';
  return 'mitm --help';
}

// `mitm start | head` closes our stdout early; that is the reader's choice, not a crash to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

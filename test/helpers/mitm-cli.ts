import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { within } from './deadline.js';
import { childEnv } from './run.js';

/** `--import <tsx>` by absolute URL, so the CLI can run from any working directory. */
export const TSX_LOADER = import.meta.resolve('tsx');
/** The CLI's entry point, by absolute path. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A `mitm start` child process. */
export interface StartedCli {
  /** Resolves with the port of the `listening on` line; rejects if the CLI exits first. */
  readonly port: Promise<number>;
  /** Resolves when the process has exited and its output ended. */
  readonly exited: Promise<{ code: number | null; stderr: string }>;
  /** Resolves once stderr so far matches `pattern`; rejects if the CLI exits first. */
  waitForStderr(pattern: RegExp): Promise<void>;
  /** Kills it if still running, and waits for the exit. */
  stop(): Promise<void>;
}

/** Spawns `mitm start <args>` in `cwd` (DEBUG cleared, no proxy variables). */
export function startCli(args: readonly string[], cwd: string): StartedCli {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'start', ...args], {
    cwd,
    env: childEnv({ DEBUG: '' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    child.emit('stderr-grew');
  });
  const exited = once(child, 'close').then(([code]: unknown[]) => ({ code: typeof code === 'number' ? code : null, stderr }));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)(?: \(pid \d+\))?$/m.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(({ code }) => reject(new Error(`mitm exited (${code}) before listening: ${stderr}`)));
  });
  const port = within(listening, () => `mitm to print its listening line; stderr: ${stderr}`, 30_000);
  // A test that never awaits `port` (because the CLI was meant to fail) must not see an unhandled rejection.
  port.catch(() => undefined);
  const waitForStderr = (pattern: RegExp): Promise<void> => {
    let check = (): void => undefined;
    const printed = new Promise<void>((resolve, reject) => {
      check = (): void => {
        if (pattern.test(stderr)) resolve();
      };
      void exited.then(() => reject(new Error(`mitm exited without printing ${pattern} on stderr: ${stderr}`)));
    });
    child.on('stderr-grew', check);
    check();
    return within(printed, () => `mitm to print ${pattern} on stderr; it printed: ${stderr}`, 30_000).finally(() =>
      child.off('stderr-grew', check),
    );
  };
  return {
    port,
    exited,
    waitForStderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
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
  const port = new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(({ code }) => reject(new Error(`mitm exited (${code}) before listening: ${stderr}`)));
  });
  // A test that never awaits `port` (because the CLI was meant to fail) must not see an unhandled rejection.
  port.catch(() => undefined);
  const waitForStderr = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(stderr)) return;
        child.off('stderr-grew', check);
        resolve();
      };
      child.on('stderr-grew', check);
      check();
      void exited.then(() => reject(new Error(`mitm exited without printing ${pattern} on stderr: ${stderr}`)));
    });
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

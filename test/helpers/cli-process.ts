import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { within } from './deadline.js';
import { childEnv } from './run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Stream = 'stdout' | 'stderr';

/** How a long-running CLI process ended. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A long-running `mitm <args>` (run from src with tsx, or with `built` the bundle `npm run build`
 * wrote to dist/, on plain node as `npx mitm` runs it), whose stdout and stderr lines tests can
 * wait for. DEBUG is cleared so stack traces appear only when a test asks for them.
 */
export class CliProcess {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly lines: Record<Stream, string[]> = { stdout: [], stderr: [] };
  readonly exited: Promise<CliExit>;
  readonly #newLine = new EventEmitter<{ line: [Stream, string] }>();

  /** `options.cwd` runs it elsewhere than the repository; `options.env` adds variables (HOME, XDG_CONFIG_HOME...). */
  constructor(
    args: readonly string[],
    options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>>; readonly built?: boolean } = {},
  ) {
    // By absolute path, so any working directory works.
    const main = options.built === true ? [`${ROOT}dist/cli/main.js`] : ['--import', import.meta.resolve('tsx'), `${ROOT}src/cli/main.ts`];
    this.child = spawn(process.execPath, [...main, ...args], {
      cwd: options.cwd ?? ROOT,
      env: childEnv({ DEBUG: '', ...options.env }),
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.child[stream] }).on('line', (line) => {
        this.lines[stream].push(line);
        this.#newLine.emit('line', stream, line);
      });
    }
    // 'close' waits for both pipes to end, so every line has been seen when this resolves.
    this.exited = once(this.child, 'close').then(([code, signal]: unknown[]) => ({
      code: typeof code === 'number' ? code : null,
      signal: typeof signal === 'string' ? (signal as NodeJS.Signals) : null,
      stdout: this.lines.stdout.join('\n'),
      stderr: this.lines.stderr.join('\n'),
    }));
  }

  /**
   * Resolves with the first line on `stream` matching `pattern`, counting from line `from` (so a
   * test can wait for the next occurrence); rejects if the process exits first.
   */
  waitForLine(stream: Stream, pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    const seen = this.lines[stream]
      .slice(from)
      .map((line) => pattern.exec(line))
      .find((match) => match !== null);
    if (seen) return Promise.resolve(seen);
    let stop = (): void => undefined;
    const matched = new Promise<RegExpExecArray>((resolve, reject) => {
      const onLine = (where: Stream, line: string): void => {
        const match = where === stream ? pattern.exec(line) : null;
        if (match) {
          this.#newLine.off('line', onLine);
          resolve(match);
        }
      };
      this.#newLine.on('line', onLine);
      stop = () => this.#newLine.off('line', onLine);
      // Once the process is gone no line can come; a no-op if the line already resolved us.
      void this.exited.then(({ code, stderr }) => reject(new Error(`mitm exited (${code}) before printing ${pattern}: ${stderr}`)));
    });
    return within(matched, () => `mitm to print ${pattern} on ${stream}; it printed: ${this.lines[stream].join('\n')}`, 30_000).finally(
      stop,
    );
  }

  /** Waits for `listening on http://127.0.0.1:PORT` on `stream` and returns the port. */
  async listeningPort(stream: Stream = 'stdout'): Promise<number> {
    const match = await this.waitForLine(stream, /^listening on http:\/\/127\.0\.0\.1:(\d+)(?: \(pid \d+\))?$/);
    return Number(match[1]);
  }

  /** Kills the process if it still runs, so a failed test leaves nothing behind. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

import { spawn } from 'node:child_process';

/** What a finished child process left behind. */
export interface RunResult {
  /** Exit code, or null when a signal ended the child (see `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** True when the safety-net timeout killed the child. */
  readonly timedOut: boolean;
}

/** Options of `run`. */
export interface RunOptions {
  /** Bytes for the child's stdin; stdin is closed right away when omitted (like `</dev/null`). */
  readonly stdin?: string | Buffer;
  readonly cwd?: string;
  /** Extra environment variables, on top of the sanitised parent environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Safety net only, never synchronisation: a hung child is killed and reported, not waited on forever. */
  readonly timeoutMs?: number;
}

// A developer's or CI machine's proxy settings must not reroute the test clients (curl honours them
// even next to --proxy for NO_PROXY), so children never see them.
const PROXY_VARIABLES = /^(https?|all|no|ftp)_proxy$/i;

/** The parent environment without proxy variables. */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!PROXY_VARIABLES.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs `command` with `args` (no shell), collecting its output; resolves when it exits, never rejects on a non-zero code. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A child that exits without reading its stdin makes our write fail with EPIPE; that is its business.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' (not 'exit') fires after stdout and stderr have ended, so no output is lost.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8'), timedOut });
    });
  });
}

/** Like `run`, but rejects with the child's stderr when it does not exit with code 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const why = result.timedOut ? 'timed out' : `exited with ${result.code ?? result.signal}`;
    throw new Error(`${command} ${args.join(' ')} ${why}: ${result.stderr.trim()}`);
  }
  return result;
}

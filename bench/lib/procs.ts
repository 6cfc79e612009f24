// Child processes of the benchmark: spawned pinned to a core, tracked, and always killed at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The core the proxy under test runs on; clients and origins run on the other one. */
export const PROXY_CPU = 1;
export const CLIENT_CPU = 0;

const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const live = new Set<ChildProcess>();

/** Whether `taskset` pins processes on this machine (the report says so when it does not). */
export function pinning(): boolean {
  return canPin;
}

/** Pins this process (all its threads) to the client core. */
export function pinSelf(): void {
  if (canPin) spawnSync('taskset', ['-a', '-p', '-c', String(CLIENT_CPU), String(process.pid)]);
}

/** The environment without proxy variables or NODE_OPTIONS, so children behave the same everywhere. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(key) || key === 'NODE_OPTIONS') delete env[key];
  }
  return env;
}

/** Spawns `cmd` pinned to `cpu` (taskset execs it, so the pid is the command's own). */
function launchRaw(cmd: string, args: readonly string[], cpu: number): ChildProcess {
  const [file, argv] = canPin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, [...args]];
  const child = spawn(file, argv, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/**
 * A long-running child (proxy, origin, client script). Its output is always drained, so a chatty
 * child never blocks on a full pipe; lines that parse as JSON objects are queued for `nextJson`.
 */
export class Proc {
  readonly child: ChildProcess;
  private stderr = '';
  private readonly queue: unknown[] = [];
  private waiter: ((value: unknown) => void) | undefined;

  constructor(cmd: string, args: readonly string[], cpu: number) {
    this.child = launchRaw(cmd, args, cpu);
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    if (this.child.stdout) createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The next JSON line the child prints, within `timeoutMs`; rejects if it exits first. */
  nextJson(timeoutMs: number): Promise<unknown> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const finish = (error: Error | undefined, value?: unknown): void => {
        clearTimeout(timer);
        this.child.removeListener('exit', onExit);
        this.waiter = undefined;
        if (error) reject(error);
        else resolve(value);
      };
      const timer = setTimeout(() => finish(new Error(`nothing within ${timeoutMs} ms: ${this.stderr.trim()}`)), timeoutMs);
      const onExit = (code: number | null): void => finish(new Error(`exited (${code}): ${this.stderr.trim()}`));
      this.child.once('exit', onExit);
      this.waiter = (value) => finish(undefined, value);
    });
  }

  /** Sends one line to the child's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
  async stop(graceMs = 5000): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    if (this.waiter) this.waiter(value);
    else this.queue.push(value);
  }
}

/** Kills every child still running (on the way out, including after a failure or Ctrl-C). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Runs a command to completion (killed after `timeoutMs`), collecting its output. */
export function run(
  cmd: string,
  args: readonly string[],
  cpu: number,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const child = launchRaw(cmd, args, cpu);
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    const finish = (code: number | null, error?: Error): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: error ? String(error) : stderr, ms: performance.now() - started });
    };
    child.once('close', (code) => finish(code));
    child.once('error', (error) => finish(-1, error));
  });
}
